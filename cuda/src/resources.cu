// The CUDA resources of resources.h and the device's stream-ordered pool; the only file that
// creates or destroys CUDA objects directly.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <set>
#include <string>

#include "hptrain/cuda/resources.h"
#include "stft_frames.h"
#include "stft_launch.h"

namespace hptrain::cuda {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Keeps freed blocks in the device's default pool instead of giving them back at every
// synchronisation, so that steady-state batches allocate nothing from the driver.
void keep_pool_cached(int device) {
  static std::mutex mutex;
  static std::set<int> done;
  std::lock_guard<std::mutex> lock(mutex);
  if (!done.insert(device).second) return;
  cudaMemPool_t pool;
  HP_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  uint64_t threshold = std::numeric_limits<uint64_t>::max();
  HP_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
}

std::string gib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", bytes / kGiB);
  return text;
}

}  // namespace

void throw_cuda_error(const char* call, const char* code, const char* file, int line) {
  throw CudaError(std::string(call) + ": " + code + " at " + file + ":" + std::to_string(line));
}

const char* cufft_status_name(cufftResult status) {
  switch (status) {
    case CUFFT_SUCCESS:
      return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
      return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
      return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE:
      return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE:
      return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
      return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
      return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
      return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
      return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA:
      return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE:
      return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE:
      return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED:
      return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED:
      return "CUFFT_NOT_SUPPORTED";
    case CUFFT_MISSING_DEPENDENCY:
      return "CUFFT_MISSING_DEPENDENCY";
    case CUFFT_NVRTC_FAILURE:
      return "CUFFT_NVRTC_FAILURE";
    case CUFFT_NVJITLINK_FAILURE:
      return "CUFFT_NVJITLINK_FAILURE";
    case CUFFT_NVSHMEM_FAILURE:
      return "CUFFT_NVSHMEM_FAILURE";
    default:
      return "CUFFT_UNKNOWN_ERROR";
  }
}

void* pool_allocate(size_t bytes, cudaStream_t stream) {
  int device = 0;
  HP_CUDA_CHECK(cudaGetDevice(&device));
  keep_pool_cached(device);
  void* p = nullptr;
  const cudaError_t status = cudaMallocAsync(&p, bytes, stream);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so that later checks start clean
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw DeviceOutOfMemory("out of device memory: asked " + gib(static_cast<double>(bytes)) +
                            " GiB, " + gib(static_cast<double>(free_bytes)) + " GiB free");
  }
  HP_CUDA_CHECK(status);
  return p;
}

void pool_free(void* ptr, cudaStream_t stream) noexcept {
  if (ptr != nullptr) cudaFreeAsync(ptr, stream);  // a destructor path: errors surface later
}

void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  HP_CUDA_CHECK(cudaMallocHost(&p, bytes));
  return p;
}

void pinned_free(void* ptr) noexcept {
  if (ptr != nullptr) cudaFreeHost(ptr);
}

Stream::Stream() {
  HP_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
}
Stream::~Stream() {
  if (s_ != nullptr) cudaStreamDestroy(s_);
}
Stream& Stream::operator=(Stream&& o) noexcept {
  std::swap(s_, o.s_);
  return *this;
}
void Stream::synchronize() const {
  HP_CUDA_CHECK(cudaStreamSynchronize(s_));
}

Event::Event() {
  HP_CUDA_CHECK(cudaEventCreate(&e_));
}
Event::~Event() {
  if (e_ != nullptr) cudaEventDestroy(e_);
}
Event& Event::operator=(Event&& o) noexcept {
  std::swap(e_, o.e_);
  return *this;
}
void Event::record(cudaStream_t stream) {
  HP_CUDA_CHECK(cudaEventRecord(e_, stream));
}
void Event::synchronize() const {
  HP_CUDA_CHECK(cudaEventSynchronize(e_));
}
float Event::elapsed_ms(const Event& start) const {
  float ms = 0;
  HP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e_, e_));
  return ms;
}

BlasHandle::BlasHandle() {
  HP_CUBLAS_CHECK(cublasCreate(&h_));
  // plain float32 products (no TF32): the tolerances against the CPU twins assume it
  HP_CUBLAS_CHECK(cublasSetMathMode(h_, CUBLAS_PEDANTIC_MATH));
}
BlasHandle::~BlasHandle() {
  if (h_ != nullptr) cublasDestroy(h_);
}
BlasHandle& BlasHandle::operator=(BlasHandle&& o) noexcept {
  std::swap(h_, o.h_);
  return *this;
}

FftPlan::FftPlan(const FftKey& key) : key_(key) {
  HP_CUFFT_CHECK(cufftCreate(&plan_));
  valid_ = true;
  try {
    HP_CUFFT_CHECK(cufftSetAutoAllocation(plan_, 0));
    const cufftType type = key.f64 ? CUFFT_D2Z : CUFFT_R2C;
    long long n[] = {key.n};
    if (key.callbacks) {
      if (key.rows > std::numeric_limits<uint32_t>::max()) {
        throw CudaError("cuFFT callbacks: " + std::to_string(key.rows) +
                        " frames in one transform, more than 2^32 - 1");
      }
      HP_CUDA_CHECK(cudaMalloc(&callback_info_, sizeof(detail::StftCallbackInfo)));
      detail::set_stft_callbacks(plan_, key.f64, &callback_info_);
      // rows 2^l apart in the callbacks' index space: the load callback shifts, never divides
      long long in[] = {1LL << log2_ceil(key.n)}, out[] = {key.n / 2 + 1};
      HP_CUFFT_CHECK(cufftMakePlanMany64(plan_, 1, n, in, 1, in[0], out, 1, out[0], type, key.rows,
                                         &work_size_));
    } else {
      // packed: rows of n reals in, rows of n/2 + 1 complex out
      HP_CUFFT_CHECK(cufftMakePlanMany64(plan_, 1, n, nullptr, 1, 0, nullptr, 1, 0, type, key.rows,
                                         &work_size_));
    }
  } catch (...) {
    cufftDestroy(plan_);
    if (callback_info_ != nullptr) cudaFree(callback_info_);
    valid_ = false;
    throw;
  }
}
FftPlan::~FftPlan() {
  if (valid_) cufftDestroy(plan_);
  if (callback_info_ != nullptr) cudaFree(callback_info_);
}
void FftPlan::execute(const void* in, void* out, void* work, cudaStream_t stream) const {
  HP_CUFFT_CHECK(cufftSetStream(plan_, stream));
  HP_CUFFT_CHECK(cufftSetWorkArea(plan_, work));
  if (key_.f64) {
    HP_CUFFT_CHECK(cufftExecD2Z(plan_, static_cast<cufftDoubleReal*>(const_cast<void*>(in)),
                                static_cast<cufftDoubleComplex*>(out)));
  } else {
    HP_CUFFT_CHECK(cufftExecR2C(plan_, static_cast<cufftReal*>(const_cast<void*>(in)),
                                static_cast<cufftComplex*>(out)));
  }
}

}  // namespace hptrain::cuda
