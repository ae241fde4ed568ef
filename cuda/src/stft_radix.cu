// The STFT's own FFT (FftFraming::radix): a block takes a tile of one item's frames, reads the
// audio they span into shared memory once (padding included), transforms each frame with
// radix::Passes in shared memory, and either writes |X|^2 frame-major, as cuFFT's store callback
// does, or sums each round of frames' |X|^2 into the mel spectrogram straight from shared memory
// (stft_mel): no frame, no spectrum and, with the mel, no power spectrum goes through global
// memory.
#include <cstdint>
#include <type_traits>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/loops.h"
#include "hptrain/cuda/radix_fft.h"
#include "stft_frames.h"
#include "stft_launch.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kRadixThreads = 256;
// Blocks an SM keeps: 4 (64 registers a thread, no spills; 74 unbounded, and then 3) is also
// what the shared memory of a speech-preset tile allows (43.5 KB; 46.7 KB with the mel rows).
constexpr int kRadixBlocksPerSm = 4;
constexpr int kRadixMaxTile = 32;  // frames a block: more would lower occupancy for little

template <int N>
constexpr int radix_groups() {  // frames transformed at once by a block
  return kRadixThreads / radix::Passes<N>::kLanes;
}
// A round's |X|^2 rows in shared memory for the mel sums: n/2 + 1 bins, the rows 4 banks apart
// (up to 8 frames of one filter, as a warp reads them, on different banks).
template <int N>
constexpr int radix_row_stride() {
  return (N / 2 + 1 - 4 + 31) / 32 * 32 + 4;
}

// Shared memory of a block: the twiddle table and each group's work area (complex), with the mel
// a row of |X|^2 per group, the window and the tile's audio (float).
template <int N>
size_t radix_shared_bytes(int tile, int hop, bool mel) {
  using P = radix::Passes<N>;
  constexpr int groups = radix_groups<N>();
  return sizeof(radix::Cplx) * (P::kTableSlots + groups * P::kSlots) +
         sizeof(float) * ((mel ? groups * radix_row_stride<N>() : 0) + N +
                          static_cast<size_t>(tile - 1) * hop + N);
}

// The mel product of radix_kernel<N, true>: out [batch, n_mels, T] = fb [n_mels, n_bins] @ |X|^2,
// filter m over its nonzero bins [range[2m], range[2m + 1]); with item_max, each item's largest
// value over its valid frames (v) as power_key, atomicMax.
struct MelOut {
  const float* fb = nullptr;
  const int* range = nullptr;
  int n_mels = 0;
  float* out = nullptr;
  uint32_t* item_max = nullptr;
  ValidFrames v;
};

template <int N, bool kMel>
__global__ void __launch_bounds__(kRadixThreads, kRadixBlocksPerSm)
    radix_kernel(FrameSource src, int tile, uint32_t tiles, float* power, MelOut mel) {
  using P = radix::Passes<N>;
  constexpr int kGroups = radix_groups<N>(), kBins = N / 2 + 1;
  extern __shared__ radix::Cplx shared[];
  radix::Cplx* table = shared;
  radix::Cplx* work = table + P::kTableSlots;
  float* rows = reinterpret_cast<float*>(work + kGroups * P::kSlots);  // with the mel
  float* window = rows + (kMel ? kGroups * radix_row_stride<N>() : 0);
  float* audio = window + N;  // 8-byte aligned, as window
  const uint32_t b = blockIdx.x / tiles;
  const int t0 = static_cast<int>(blockIdx.x - b * tiles) * tile, hop = src.f.hop;
  const int first = t0 * hop - src.pad, n = src.length(b);
  // the samples of the tile's frames below T (zeros after them: frames at or past T are
  // transformed, never written); their indices stay below 2^31 (stft_input's limit on n)
  const int frames = static_cast<int>(src.T - t0 < tile ? src.T - t0 : tile);
  const int staged = (frames - 1) * hop + N;
  for (int e = threadIdx.x; e < N / 2; e += kRadixThreads) P::fill_table(e, table);
  for (int i = threadIdx.x; i < N; i += kRadixThreads) window[i] = load_global(src.window32 + i);
  for (int q = threadIdx.x; q < (tile - 1) * hop + N; q += kRadixThreads) {
    audio[q] = q < staged ? src.sample(b, first + q, n) : 0.0f;
  }
  __syncthreads();
  const int group = threadIdx.x / P::kLanes, lane = threadIdx.x % P::kLanes;
  radix::Cplx* z = work + group * P::kSlots;
  const bool pairs = hop % 2 == 0;  // every frame starts 8-byte aligned: (even, odd) pairs load
  const int64_t valid = kMel && mel.item_max != nullptr ? mel.v(b) : 0;  // the item's own frames
  uint32_t key = 0;  // the largest valid mel value's (0: none)
  // tile is a multiple of kGroups and a round starts at the same frame f - group in every thread:
  // every thread takes each barrier below equally often, and leaves the loop together at the
  // first round past the item's frames
  for (int f = group; f < tile && f - group < frames; f += kGroups) {
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
    // |X|^2 of the frame: to its row of global memory, or (mel) of shared memory
    float* out =
        kMel ? rows + group * radix_row_stride<N>() : power + (int64_t{b} * src.T + t) * kBins;
    if (kMel || t < src.T) {
      for (int k = lane; k <= P::kM / 2; k += P::kLanes) {
        radix::Cplx xk, xmk;
        P::split(k, z, table, xk, xmk);
        out[k] = power_of(xk);
        out[P::kM - k] = power_of(xmk);
      }
    }
    if constexpr (kMel) {
      __syncthreads();  // the round's rows are complete
      // the round's mel values (at n_fft 512 a warp takes 8 frames of 4 filters, its stores
      // 32-byte runs of frames)
      const int64_t round = t0 + f - group;
      mel_rows(mel.fb, mel.range, mel.n_mels, kBins, rows, radix_row_stride<N>(), kGroups,
               static_cast<int>(src.T - round < kGroups ? src.T - round : kGroups),
               mel.out + (int64_t{b} * mel.n_mels) * src.T + round, src.T, valid - round, key);
    }
    __syncthreads();  // z (and the rows) are read before the next round overwrites them
  }
  if constexpr (kMel) {
    if (mel.item_max != nullptr) warp_max_into(key, mel.item_max + b);
  }
}

// f(std::integral_constant<int, N>) for the N of Ns that n_fft is; false for none.
template <int... Ns, class F>
bool with_any(int n_fft, F&& f) {
  return ((n_fft == Ns && (f(std::integral_constant<int, Ns>()), true)) || ...);
}
// with_any over the n_fft the kernel takes: 256 to 2048, and with the mel up to 1024 (at 2048 the
// table, work areas, rows and window alone take 50.7 KB, over kRadixSharedBytes).
template <bool kMel, class F>
bool with_n(int n_fft, F&& f) {
  if constexpr (kMel) {
    return with_any<256, 512, 1024>(n_fft, f);
  } else {
    return with_any<256, 512, 1024, 2048>(n_fft, f);
  }
}

}  // namespace

int radix_tile_frames(int n_fft, int hop, bool mel) {
  int tile = 0;
  const auto largest = [&](auto n) {
    constexpr int N = decltype(n)::value, groups = radix_groups<N>();
    for (int t = kRadixMaxTile / groups * groups; t >= groups && tile == 0; t -= groups) {
      if (radix_shared_bytes<N>(t, hop, mel) <= kRadixSharedBytes) tile = t;
    }
  };
  mel ? with_n<true>(n_fft, largest) : with_n<false>(n_fft, largest);
  return tile;
}

namespace {

// Launches radix_kernel<n_fft, kMel> over every tile of src.
template <bool kMel>
void launch_radix(const FrameSource& src, float* power, const MelOut& mel, cudaStream_t stream) {
  const int tile = radix_tile_frames(src.f.frame, src.f.hop, kMel);
  const int64_t tiles = (src.T + tile - 1) / tile;
  if (src.s.batch * tiles == 0) return;
  with_n<kMel>(src.f.frame, [&](auto n) {
    constexpr int N = decltype(n)::value;
    radix_kernel<N, kMel><<<static_cast<unsigned>(src.s.batch * tiles), kRadixThreads,
                            radix_shared_bytes<N>(tile, src.f.hop, kMel), stream>>>(
        src, tile, static_cast<uint32_t>(tiles), power, mel);
  });
  HP_CHECK_LAUNCH();
}

}  // namespace

void radix_power(const FrameSource& src, float* power, cudaStream_t stream) {
  launch_radix<false>(src, power, MelOut{}, stream);
}

void radix_mel(const FrameSource& src, const float* mel_fb, const int* range, int n_mels,
               float* out, uint32_t* item_max, ValidFrames v, cudaStream_t stream) {
  launch_radix<true>(src, nullptr, MelOut{mel_fb, range, n_mels, out, item_max, v}, stream);
}

}  // namespace hptrain::cuda::detail
