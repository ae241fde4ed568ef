// Move-only RAII owners of CUDA resources (stream, event, cuBLAS handle, cuFFT plan, device and
// pinned buffers). Device memory comes from the device's one stream-ordered pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "hptrain/cuda/check.h"

namespace hptrain::cuda {

// `bytes` from the current device's stream-ordered pool (cudaMallocAsync on its default pool,
// kept cached between calls). Throws DeviceOutOfMemory "out of device memory: asked X GiB, Y GiB
// free" when the pool cannot grow.
void* pool_allocate(size_t bytes, cudaStream_t stream);
// Returns `ptr` to the pool once the work queued on `stream` so far is done. Never throws.
void pool_free(void* ptr, cudaStream_t stream) noexcept;
void* pinned_allocate(size_t bytes);
void pinned_free(void* ptr) noexcept;

class Stream {
 public:
  Stream();  // non-blocking with respect to the legacy default stream
  ~Stream();
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void synchronize() const;

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event();
  ~Event();
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t stream);
  void synchronize() const;
  // Milliseconds from `start` to this event (both recorded and complete).
  float elapsed_ms(const Event& start) const;

 private:
  cudaEvent_t e_ = nullptr;
};

class BlasHandle {
 public:
  BlasHandle();
  ~BlasHandle();
  BlasHandle(BlasHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  BlasHandle& operator=(BlasHandle&& o) noexcept;
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// The shape of a batched 1-D real-to-complex FFT: `rows` transforms of n real values, packed,
// or, with `callbacks`, the STFT's plan whose cuFFT callbacks read the frames from the audio and
// write |X|^2 (stft_frames.h): made for one stream, on which its callback arguments are set.
struct FftKey {
  int n = 0;
  int64_t rows = 0;
  bool f64 = true;  // D2Z (float64, librosa's arithmetic) or R2C (float32)
  bool callbacks = false;
  cudaStream_t stream = nullptr;  // with callbacks only
  bool operator<(const FftKey& o) const {
    if (n != o.n) return n < o.n;
    if (rows != o.rows) return rows < o.rows;
    if (f64 != o.f64) return f64 < o.f64;
    if (callbacks != o.callbacks) return callbacks < o.callbacks;
    return std::less<cudaStream_t>()(stream, o.stream);
  }
};

// A cuFFT plan with auto-allocation off: the caller lends a work area of work_size() bytes.
// A plan with callbacks owns the device block of their arguments (callback_info()).
class FftPlan {
 public:
  explicit FftPlan(const FftKey& key);
  ~FftPlan();
  FftPlan(FftPlan&& o) noexcept
      : plan_(std::exchange(o.plan_, 0)),
        valid_(std::exchange(o.valid_, false)),
        key_(o.key_),
        work_size_(o.work_size_),
        callback_info_(std::exchange(o.callback_info_, nullptr)) {}
  FftPlan& operator=(FftPlan&&) = delete;
  FftPlan(const FftPlan&) = delete;
  FftPlan& operator=(const FftPlan&) = delete;
  // in: rows x n reals; out: rows x (n/2 + 1) complex; work: work_size() bytes. With callbacks,
  // `in` is only handed to them and `out` is cuFFT's to use (the results go where the
  // callback arguments say).
  void execute(const void* in, void* out, void* work, cudaStream_t stream) const;
  size_t work_size() const { return work_size_; }
  void* callback_info() const { return callback_info_; }

 private:
  cufftHandle plan_ = 0;
  bool valid_ = false;
  FftKey key_;
  size_t work_size_ = 0;
  void* callback_info_ = nullptr;
};

// n values of T on the device, from the pool, freed in the order of the stream they were made on.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t n, cudaStream_t stream)
      : p_(n ? static_cast<T*>(pool_allocate(n * sizeof(T), stream)) : nullptr),
        n_(n),
        stream_(stream) {}
  ~DeviceBuffer() { pool_free(p_, stream_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), stream_(o.stream_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    std::swap(stream_, o.stream_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* data() const { return p_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  // Frees on `stream` from now on (a hand-off to another stream's owner, e.g. LibTorch's):
  // the caller makes `stream` wait for the work queued on the buffer so far.
  void free_on(cudaStream_t stream) { stream_ = stream; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
  cudaStream_t stream_ = nullptr;
};

// Every bit of d's values to zero, queued on `stream`.
template <class T>
void set_zero(DeviceBuffer<T>& d, cudaStream_t stream) {
  if (!d.empty()) HP_CUDA_CHECK(cudaMemsetAsync(d.data(), 0, d.size() * sizeof(T), stream));
}

// n values of T on the device, all bits zero (counters, atomic maxima), zeroed on `stream`.
template <class T>
DeviceBuffer<T> zeros(size_t n, cudaStream_t stream) {
  DeviceBuffer<T> d(n, stream);
  set_zero(d, stream);
  return d;
}

// A device copy of `host`, queued on `stream` (the host vector may go once this returns).
template <class T>
DeviceBuffer<T> to_device(const std::vector<T>& host, cudaStream_t stream) {
  DeviceBuffer<T> d(host.size(), stream);
  if (!host.empty()) {
    HP_CUDA_CHECK(cudaMemcpyAsync(d.data(), host.data(), host.size() * sizeof(T),
                                  cudaMemcpyHostToDevice, stream));
  }
  return d;
}

// n values of T in page-locked host memory (fast, truly asynchronous copies).
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t n)
      : p_(n ? static_cast<T*>(pinned_allocate(n * sizeof(T))) : nullptr), n_(n) {}
  ~PinnedBuffer() { pinned_free(p_); }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  T* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace hptrain::cuda
