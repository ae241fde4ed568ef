// The STFT's own FFT (FftFraming::radix): a block takes a tile of one item's frames, reads the
// audio they span into shared memory once (padding included), transforms each frame with
// radix::Passes in shared memory and writes |X|^2 frame-major, as cuFFT's store callback does;
// no frame and no complex spectrum goes through global memory.
#include <cstdint>
#include <type_traits>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/radix_fft.h"
#include "launch.h"
#include "stft_frames.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kRadixThreads = 256;
// Blocks an SM keeps: 4 (64 registers a thread, no spills; 74 unbounded, and then 3) is also
// what the shared memory of a speech-preset tile (43.5 KB) allows.
constexpr int kRadixBlocksPerSm = 4;
constexpr int kRadixMaxTile = 32;  // frames a block: more would lower occupancy for little

template <int N>
constexpr int radix_groups() {  // frames transformed at once by a block
  return kRadixThreads / radix::Passes<N>::kLanes;
}

// Shared memory of a block: the twiddle table and each group's work area (complex), the window
// and the tile's audio (float).
template <int N>
size_t radix_shared_bytes(int tile, int hop) {
  using P = radix::Passes<N>;
  return sizeof(radix::Cplx) * (P::kTableSlots + radix_groups<N>() * P::kSlots) +
         sizeof(float) * (N + static_cast<size_t>(tile - 1) * hop + N);
}

template <int N>
__global__ void __launch_bounds__(kRadixThreads, kRadixBlocksPerSm)
    radix_power_kernel(FrameSource src, int tile, uint32_t tiles, float* power) {
  using P = radix::Passes<N>;
  constexpr int kGroups = radix_groups<N>();
  extern __shared__ radix::Cplx shared[];
  radix::Cplx* table = shared;
  radix::Cplx* work = table + P::kTableSlots;
  float* window = reinterpret_cast<float*>(work + kGroups * P::kSlots);
  float* audio = window + N;  // 8-byte aligned, as window
  const uint32_t b = blockIdx.x / tiles;
  const int t0 = static_cast<int>(blockIdx.x - b * tiles) * tile, hop = src.f.hop;
  const int first = t0 * hop - src.pad, n = src.length(b);
  for (int e = threadIdx.x; e < N / 2; e += kRadixThreads) P::fill_table(e, table);
  for (int i = threadIdx.x; i < N; i += kRadixThreads) window[i] = load_global(src.window32 + i);
  for (int q = threadIdx.x; q < (tile - 1) * hop + N; q += kRadixThreads) {
    audio[q] = src.sample(b, first + q, n);
  }
  __syncthreads();
  const int group = threadIdx.x / P::kLanes, lane = threadIdx.x % P::kLanes;
  radix::Cplx* z = work + group * P::kSlots;
  const bool pairs = hop % 2 == 0;  // every frame starts 8-byte aligned: (even, odd) pairs load
  // tile is a multiple of kGroups: every thread takes each barrier below equally often
  for (int f = group; f < tile; f += kGroups) {
    const float* x = audio + f * hop;
    // the frame's values 2q and 2q + 1 as FrameSource::value<float> makes them
    const auto frame = [&](int q) {
      const int i = 2 * q;
      const float2 w = *reinterpret_cast<const float2*>(window + i);
      const float2 y = pairs ? *reinterpret_cast<const float2*>(x + i) : float2{x[i], x[i + 1]};
      return radix::Cplx{src.in_span(i) ? w.x * y.x : 0.0f, src.in_span(i + 1) ? w.y * y.y : 0.0f};
    };
    radix::Cplx v[8];
    P::load_frame(lane, frame, v);
    P::store(0, lane, v, z);
    __syncthreads();
    HP_UNROLL
    for (int p = 1; p < P::kCount; ++p) {
      P::load(p, lane, z, table, v);
      __syncthreads();  // every lane has read z before any overwrites it
      P::store(p, lane, v, z);
      __syncthreads();
    }
    const int64_t t = t0 + f;
    if (t < src.T) {
      float* out = power + (int64_t{b} * src.T + t) * (N / 2 + 1);
      for (int k = lane; k <= P::kM / 2; k += P::kLanes) {
        radix::Cplx xk, xmk;
        P::split(k, z, table, xk, xmk);
        out[k] = power_of(xk);
        out[P::kM - k] = power_of(xmk);
      }
    }
    __syncthreads();  // z is read before the next frame's first pass overwrites it
  }
}

// f(std::integral_constant<int, N>) for the n_fft the kernel takes; false for any other.
template <class F>
bool with_n(int n_fft, F&& f) {
  switch (n_fft) {
    case 256:
      f(std::integral_constant<int, 256>());
      return true;
    case 512:
      f(std::integral_constant<int, 512>());
      return true;
    case 1024:
      f(std::integral_constant<int, 1024>());
      return true;
    case 2048:
      f(std::integral_constant<int, 2048>());
      return true;
    default:
      return false;
  }
}

}  // namespace

int radix_tile_frames(int n_fft, int hop) {
  int tile = 0;
  with_n(n_fft, [&](auto n) {
    constexpr int N = decltype(n)::value, groups = radix_groups<N>();
    for (int t = kRadixMaxTile / groups * groups; t >= groups && tile == 0; t -= groups) {
      if (radix_shared_bytes<N>(t, hop) <= kRadixSharedBytes) tile = t;
    }
  });
  return tile;
}

void radix_power(const FrameSource& src, float* power, cudaStream_t stream) {
  const int tile = radix_tile_frames(src.f.frame, src.f.hop);
  const int64_t tiles = (src.T + tile - 1) / tile;
  if (src.s.batch * tiles == 0) return;
  with_n(src.f.frame, [&](auto n) {
    constexpr int N = decltype(n)::value;
    radix_power_kernel<N><<<static_cast<unsigned>(src.s.batch * tiles), kRadixThreads,
                            radix_shared_bytes<N>(tile, src.f.hop), stream>>>(
        src, tile, static_cast<uint32_t>(tiles), power);
  });
  HP_CHECK_LAUNCH();
}

}  // namespace hptrain::cuda::detail
