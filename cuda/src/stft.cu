// Framing + window (one kernel, float32 or float64 frames for cuFFT), the FFT output's |X|,
// |X|^2, |X|^p as bin-major spectra (a tiled transpose), or |X|^2 straight into the mel
// product (no power spectrogram in memory), from cuFFT's output or from one kernel that frames
// and transforms in shared memory; matches features' stft_item and bank_product.
#include "launch.h"

#include <cufft.h>

#include "hptrain/cuda/check.h"
#include "hptrain/features/radix_fft.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kFrameThreads = 256;
constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr int kRadixThreads = 256;  // at most, per block of radix_mel_kernel

// Window sample i of frame t of item b of a padded clip y [0, n): window[i] y[t hop + i - pad]
// for i in [lo, hi), else 0; the product in float64 (librosa: a float64 window on float32 y).
template <class T>
__device__ T windowed(const float* y, int64_t n, Framing f, PadMode mode, const double* window,
                      int lo, int hi, int64_t t, int i) {
  if (i < lo || i >= hi) return 0;
  const int64_t j = pad_index(t * f.hop + i - f.pad(), n, mode);
  return j >= 0 ? static_cast<T>(window[i] * static_cast<double>(y[j])) : T(0);
}

// One block per (item, frame) row; threads over its n_fft values.
template <class T>
__global__ void frames_kernel(Signal s, Framing f, PadMode mode, const double* window, int lo,
                              int hi, int64_t n_frames, T* out) {
  const int64_t row = blockIdx.x;
  const int64_t b = row / n_frames, t = row - b * n_frames;
  const int64_t n = s.lengths != nullptr ? s.lengths[b] : s.n_samples;
  const float* y = s.audio + b * s.n_samples;
  T* o = out + row * f.frame;
  for (int i = threadIdx.x; i < f.frame; i += blockDim.x)
    o[i] = windowed<T>(y, n, f, mode, window, lo, hi, t, i);
}

template <class T>
__device__ float power_of(T re_t, T im_t) {
  const float re = static_cast<float>(re_t), im = static_cast<float>(im_t);
  return __fadd_rn(__fmul_rn(re, re), __fmul_rn(im, im));  // no FMA: as the CPU's complex64
}
template <class C>
__device__ float power_of(const C& c) {
  return power_of(c.x, c.y);
}

// out[m, t0 + t] (one item's [n_mels, n_frames]) for the `frames` frames of a tile whose |X|^2
// [tile, n_bins] is in shared memory: filter m summed over its nonzero bins [range[2m],
// range[2m + 1]) in k order, without FMA, as the CPU's bank_product sums the same float32 terms.
__device__ void mel_of_tile(const float* power, int frames, int tile, int n_bins, const float* fb,
                            const int* range, int n_mels, int64_t n_frames, int64_t t0,
                            float* out) {
  for (int i = threadIdx.x; i < n_mels * tile; i += blockDim.x) {
    const int m = i / tile, t = i - m * tile;
    if (t >= frames) continue;
    const float* w = fb + static_cast<int64_t>(m) * n_bins;
    const float* p = power + t * n_bins;
    float acc = 0.0f;
    for (int k = range[2 * m]; k < range[2 * m + 1]; ++k)
      acc = __fadd_rn(acc, __fmul_rn(w[k], p[k]));
    out[m * n_frames + t0 + t] = acc;
  }
}

// Tiles of 32 frames x 32 bins: read frame-major, write bin-major.
template <class C>
__global__ void spectrum_kernel(const C* fft, int64_t n_frames, int n_bins, float* mag,
                                float* power, float* spec, float exponent) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int k0 = blockIdx.y * kTile;
  const int64_t b = blockIdx.z;
  for (int r = threadIdx.y; r < kTile; r += kTileRows) {
    const int64_t t = t0 + r;
    const int k = k0 + threadIdx.x;
    if (t < n_frames && k < n_bins)
      tile[r][threadIdx.x] = power_of(fft[(b * n_frames + t) * n_bins + k]);
  }
  __syncthreads();
  for (int r = threadIdx.y; r < kTile; r += kTileRows) {
    const int k = k0 + r;
    const int64_t t = t0 + threadIdx.x;
    if (t >= n_frames || k >= n_bins) continue;
    const float p = tile[threadIdx.x][r];
    const int64_t at = (b * n_bins + k) * n_frames + t;
    if (power != nullptr) power[at] = p;
    const float m = sqrtf(p);
    if (mag != nullptr) mag[at] = m;
    if (spec != nullptr) spec[at] = powf(m, exponent);
  }
}

// One block per tile of `tile` frames of one item: the tile's |X|^2 in shared memory (frame-
// major, n_bins odd: conflict-free), then mel_of_tile.
template <class C>
__global__ void mel_kernel(const C* fft, int64_t n_frames, int n_bins, int tile,
                           int64_t tiles_per_item, const float* fb, const int* range, int n_mels,
                           float* out) {
  extern __shared__ float power[];  // [tile, n_bins]
  const int64_t b = blockIdx.x / tiles_per_item;
  const int64_t t0 = (blockIdx.x - b * tiles_per_item) * tile;
  const int frames = static_cast<int>(n_frames - t0 < tile ? n_frames - t0 : tile);
  const C* x = fft + (b * n_frames + t0) * n_bins;
  for (int i = threadIdx.x; i < frames * n_bins; i += blockDim.x) power[i] = power_of(x[i]);
  __syncthreads();
  mel_of_tile(power, frames, tile, n_bins, fb, range, n_mels, n_frames, t0,
              out + b * n_mels * n_frames);
}

namespace rf = features::radix_fft;

// One pass of radix R of every frame's complex FFT in shared memory: `lane` of the frame's
// per_frame = m / kMax threads (1 when m < kMax) takes butterflies lane, lane + per_frame, ...
// (m / R in all, at most kMax / R each). All threads load, wait, store, wait.
template <int kMax, int R, class T>
__device__ void radix_pass(rf::Complex<T>* z, int m, int ns, int lane, int per_frame,
                           const double* table) {
  constexpr int kUnits = kMax / R;
  rf::Complex<T> v[kMax];
  HP_UNROLL
  for (int u = 0; u < kUnits; ++u) {
    const int j = lane + u * per_frame;
    if (j < m / R) rf::pass_load<R>(z, m, ns, j, table, v + u * R);
  }
  __syncthreads();
  HP_UNROLL
  for (int u = 0; u < kUnits; ++u) {
    const int j = lane + u * per_frame;
    if (j < m / R) rf::pass_store<R>(v + u * R, ns, j, z);
  }
  __syncthreads();
}

// The fused STFT + mel of one tile of `tile` frames of one item, m / kMax threads per frame (at
// least 1), all in shared memory: the tile's samples (one coalesced read of the span its frames
// cover, padded), the windowed frames as pairs z[j] = x[2j] + i x[2j+1] ([tile, n/2] complex
// T), radix_fft's passes (radix kMax, the last one smaller) in place, the real split to |X|^2
// ([tile, n_bins] float), then mel_of_tile. Global memory sees the audio once, the tables and
// the mel output.
template <class T, int kMax>
__global__ void __launch_bounds__(kRadixThreads)
    radix_mel_kernel(Signal s, Framing f, PadMode mode, const double* window, int lo, int hi,
                     int64_t n_frames, int tile, int64_t tiles_per_item, const double* table,
                     const float* fb, const int* range, int n_mels, float* out) {
  extern __shared__ __align__(16) unsigned char radix_shared[];
  const int m = f.frame / 2, n_bins = m + 1;
  const int per_frame = m >= kMax ? m / kMax : 1;
  const int span = (tile - 1) * f.hop + f.frame;
  rf::Complex<T>* z = reinterpret_cast<rf::Complex<T>*>(radix_shared);
  float* power = reinterpret_cast<float*>(z + tile * m);
  float* seg = power + tile * n_bins;  // [span] samples of the tile
  const int64_t b = blockIdx.x / tiles_per_item;
  const int64_t t0 = (blockIdx.x - b * tiles_per_item) * tile;
  const int frames = static_cast<int>(n_frames - t0 < tile ? n_frames - t0 : tile);
  const int64_t n = s.lengths != nullptr ? s.lengths[b] : s.n_samples;
  const float* y = s.audio + b * s.n_samples;
  const int64_t first = t0 * f.hop - f.pad();
#pragma unroll 4
  for (int i = threadIdx.x; i < span; i += blockDim.x) {
    const int64_t j = pad_index(first + i, n, mode);
    seg[i] = j >= 0 ? __ldg(y + j) : 0.0f;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < tile * m; i += blockDim.x) {
    const int t = i / m, j = 2 * (i - t * m);
    const float* x = seg + t * f.hop;
    // ref: librosa stft: float64 window times the float32 frame
    z[i] = {
        j >= lo && j < hi ? static_cast<T>(__ldg(window + j) * static_cast<double>(x[j])) : T(0),
        j + 1 >= lo && j + 1 < hi
            ? static_cast<T>(__ldg(window + j + 1) * static_cast<double>(x[j + 1]))
            : T(0)};
  }
  __syncthreads();
  const int frame = threadIdx.x / per_frame, lane = threadIdx.x - frame * per_frame;
  rf::Complex<T>* zf = z + frame * m;
  for (int left = m, ns = 1, r = rf::next_radix(left, kMax); left > 1;
       left /= r, ns *= r, r = rf::next_radix(left, kMax)) {
    switch (r) {
      case 16:
        radix_pass<kMax, 16 <= kMax ? 16 : kMax>(zf, m, ns, lane, per_frame, table);
        break;
      case 8:
        radix_pass<kMax, 8 <= kMax ? 8 : kMax>(zf, m, ns, lane, per_frame, table);
        break;
      case 4:
        radix_pass<kMax, 4 <= kMax ? 4 : kMax>(zf, m, ns, lane, per_frame, table);
        break;
      default:
        radix_pass<kMax, 2>(zf, m, ns, lane, per_frame, table);
        break;
    }
  }
  for (int i = threadIdx.x; i < frames * n_bins; i += blockDim.x) {
    const int t = i / n_bins, k = i - t * n_bins;
    const rf::Complex<T> x = rf::real_bin(z + t * m, m, k, table);
    power[i] = power_of(x.re, x.im);
  }
  __syncthreads();
  mel_of_tile(power, frames, tile, n_bins, fb, range, n_mels, n_frames, t0,
              out + b * n_mels * n_frames);
}

// Largest radix of the fused kernel: 16 keeps 16 values per thread (~120 registers in
// float32, ~230 in float64, where 8 halves them and doubles the threads per frame).
int radix_max(bool f64) {
  return f64 ? 8 : 16;
}

// Shared memory of a tile of radix_mel_kernel: complex halves, |X|^2, the samples it spans.
size_t radix_mel_bytes(Framing f, bool f64, int tile) {
  const size_t complex_bytes = f64 ? sizeof(rf::Complex<double>) : sizeof(rf::Complex<float>);
  const int m = f.frame / 2;
  return tile * (m * complex_bytes + (m + 1) * sizeof(float)) +
         (static_cast<size_t>(tile - 1) * f.hop + f.frame) * sizeof(float);
}

template <class T, int kMax>
void launch_radix_mel(const Signal& s, Framing f, PadMode mode, const double* window, int lo,
                      int hi, int64_t n_frames, int tile, const double* twiddles,
                      const float* mel_fb, const int* range, int n_mels, float* out,
                      cudaStream_t stream) {
  const int m = f.frame / 2;
  const int per_frame = m >= kMax ? m / kMax : 1;
  const int64_t tiles = (n_frames + tile - 1) / tile;
  if (s.batch * tiles == 0) return;
  radix_mel_kernel<T, kMax>
      <<<static_cast<unsigned>(s.batch * tiles), static_cast<unsigned>(tile * per_frame),
         radix_mel_bytes(f, sizeof(T) == sizeof(double), tile), stream>>>(
          s, f, mode, window, lo, hi, n_frames, tile, tiles, twiddles, mel_fb, range, n_mels, out);
  HP_CHECK_LAUNCH();
}

}  // namespace

int mel_tile_frames(int n_bins) {
  const int tile = static_cast<int>(kMelSharedBytes / (sizeof(float) * n_bins));
  return tile < kTile ? tile : kTile;
}

void mel_from_fft(const void* fft, bool f64, int64_t batch, int64_t T, int n_bins,
                  const float* mel_fb, const int* range, int n_mels, float* out,
                  cudaStream_t stream) {
  const int tile = mel_tile_frames(n_bins);
  const int64_t tiles = (T + tile - 1) / tile;
  if (batch * tiles == 0) return;
  const unsigned blocks = static_cast<unsigned>(batch * tiles);
  const size_t shared = sizeof(float) * tile * n_bins;
  if (f64) {
    mel_kernel<<<blocks, kFrameThreads, shared, stream>>>(
        static_cast<const cufftDoubleComplex*>(fft), T, n_bins, tile, tiles, mel_fb, range, n_mels,
        out);
  } else {
    mel_kernel<<<blocks, kFrameThreads, shared, stream>>>(
        static_cast<const cufftComplex*>(fft), T, n_bins, tile, tiles, mel_fb, range, n_mels, out);
  }
  HP_CHECK_LAUNCH();
}

int radix_mel_tile(Framing f, bool f64) {
  if (!rf::supported(f.frame)) return 0;
  const int m = f.frame / 2;
  const int per_frame = m >= radix_max(f64) ? m / radix_max(f64) : 1;
  int tile = kRadixThreads / per_frame;
  while (tile > 0 && radix_mel_bytes(f, f64, tile) > kMelSharedBytes) --tile;
  // whole warps when a frame takes fewer than 32 threads
  if (per_frame < 32 && tile >= 32 / per_frame) tile -= tile % (32 / per_frame);
  return tile;
}

void radix_mel(const Signal& s, Framing f, PadMode mode, const double* window, int lo, int hi,
               int64_t T, bool f64, const double* twiddles, const float* mel_fb, const int* range,
               int n_mels, float* out, cudaStream_t stream) {
  const int tile = radix_mel_tile(f, f64);
  if (f64) {
    launch_radix_mel<double, 8>(s, f, mode, window, lo, hi, T, tile, twiddles, mel_fb, range,
                                n_mels, out, stream);
  } else {
    launch_radix_mel<float, 16>(s, f, mode, window, lo, hi, T, tile, twiddles, mel_fb, range,
                                n_mels, out, stream);
  }
}

void frames(const Signal& s, Framing f, PadMode mode, const double* window, int lo, int hi,
            int64_t T, bool f64, void* out, cudaStream_t stream) {
  const int64_t rows = s.batch * T;
  if (rows == 0) return;
  if (f64) {
    frames_kernel<double><<<static_cast<unsigned>(rows), kFrameThreads, 0, stream>>>(
        s, f, mode, window, lo, hi, T, static_cast<double*>(out));
  } else {
    frames_kernel<float><<<static_cast<unsigned>(rows), kFrameThreads, 0, stream>>>(
        s, f, mode, window, lo, hi, T, static_cast<float*>(out));
  }
  HP_CHECK_LAUNCH();
}

void spectrum(const void* fft, bool f64, int64_t batch, int64_t T, int n_bins, float* mag,
              float* power, float* spec, float exponent, cudaStream_t stream) {
  constexpr int64_t kMaxGridZ = 65535;
  const dim3 block(kTile, kTileRows);
  for (int64_t b0 = 0; b0 < batch && T > 0; b0 += kMaxGridZ) {
    const int64_t nb = batch - b0 < kMaxGridZ ? batch - b0 : kMaxGridZ;
    const int64_t at = b0 * n_bins * T;  // the same offset in the FFT output and the spectra
    auto shift = [at](float* p) { return p != nullptr ? p + at : nullptr; };
    const dim3 grid(static_cast<unsigned>((T + kTile - 1) / kTile), (n_bins + kTile - 1) / kTile,
                    static_cast<unsigned>(nb));
    if (f64) {
      spectrum_kernel<<<grid, block, 0, stream>>>(static_cast<const cufftDoubleComplex*>(fft) + at,
                                                  T, n_bins, shift(mag), shift(power), shift(spec),
                                                  exponent);
    } else {
      spectrum_kernel<<<grid, block, 0, stream>>>(static_cast<const cufftComplex*>(fft) + at, T,
                                                  n_bins, shift(mag), shift(power), shift(spec),
                                                  exponent);
    }
    HP_CHECK_LAUNCH();
  }
}

}  // namespace hptrain::cuda::detail
