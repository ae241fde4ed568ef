// Spectral contrast's per-band valley and peak: the q smallest and largest bins of each band by
// insertion into two sorted runs per thread (selection, no full sort), in registers or, for
// large q or many bands, in global-memory scratch; twin of contrast_item.
#include <cfloat>

#include "hptrain/cuda/check.h"
#include "launch.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kThreads = 128;

// The q smallest (lo, ascending) and largest (hi, descending) bins of one band of one frame by
// insertion, then their means (np.mean(np.sort(band)[:q]) and [-q:], summed ascending). lo[j]
// and hi[j] live at lo + j * stride: registers or a thread's interleaved scratch.
__device__ __forceinline__ void select_band(const float* x, int64_t T, int count, int q, float* lo,
                                            float* hi, int64_t stride, float& valley, float& peak) {
  for (int j = 0; j < q; ++j) {
    lo[j * stride] = FLT_MAX;
    hi[j * stride] = -FLT_MAX;
  }
  for (int k = 0; k < count; ++k) {
    const float v = x[k * T];
    if (v < lo[(q - 1) * stride]) {
      int j = q - 1;
      for (; j > 0 && lo[(j - 1) * stride] > v; --j) lo[j * stride] = lo[(j - 1) * stride];
      lo[j * stride] = v;
    }
    if (v > hi[(q - 1) * stride]) {
      int j = q - 1;
      for (; j > 0 && hi[(j - 1) * stride] < v; --j) hi[j * stride] = hi[(j - 1) * stride];
      hi[j * stride] = v;
    }
  }
  // ref: librosa spectral_contrast: np.mean(np.sort(band)[:q]) and [-q:], summed ascending
  float sl = 0, sh = 0;
  for (int j = 0; j < q; ++j) sl += lo[j * stride];
  for (int j = q - 1; j >= 0; --j) sh += hi[j * stride];
  valley = sl / static_cast<float>(q);
  peak = sh / static_cast<float>(q);
}

// One thread per (item, band, frame); neighbouring threads read neighbouring frames.
__global__ void contrast_kernel(const float* mag, int64_t batch, int n_bins, int64_t T, Bands bands,
                                float* valley, float* peak) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * bands.n * T) return;
  const int64_t row = i / T, t = i - row * T;
  const int64_t b = row / bands.n;
  const int band = static_cast<int>(row - b * bands.n);
  float lo[Bands::kMaxQ];
  float hi[Bands::kMaxQ];
  select_band(mag + (b * n_bins + bands.first[band]) * T + t, T, bands.count[band], bands.q[band],
              lo, hi, 1, valley[i], peak[i]);
}

// Threads [i0, i0 + n) of the same selection, each with 2 max_q floats of scratch at
// scratch[j * n + (i - i0)] (lo) and [(max_q + j) * n + ...] (hi): neighbours coalesce.
__global__ void contrast_scratch_kernel(const float* mag, int64_t batch, int n_bins, int64_t T,
                                        const int* first, const int* count, const int* q,
                                        int n_bands, int max_q, float* scratch, int64_t i0,
                                        int64_t n, float* valley, float* peak) {
  const int64_t local = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t i = i0 + local;
  if (local >= n || i >= batch * n_bands * T) return;
  const int64_t row = i / T, t = i - row * T;
  const int64_t b = row / n_bands;
  const int band = static_cast<int>(row - b * n_bands);
  float* lo = scratch + local;
  select_band(mag + (b * n_bins + first[band]) * T + t, T, count[band], q[band], lo,
              lo + static_cast<int64_t>(max_q) * n, n, valley[i], peak[i]);
}

}  // namespace

void contrast_select(const float* mag, int64_t batch, int n_bins, int64_t T, const Bands& bands,
                     float* valley, float* peak, cudaStream_t stream) {
  const int64_t n = batch * bands.n * T;
  if (n == 0) return;
  contrast_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      mag, batch, n_bins, T, bands, valley, peak);
  HP_CHECK_LAUNCH();
}

void contrast_select_scratch(const float* mag, int64_t batch, int n_bins, int64_t T,
                             const int* first, const int* count, const int* q, int n_bands,
                             int max_q, float* scratch, int64_t threads, float* valley, float* peak,
                             cudaStream_t stream) {
  const int64_t total = batch * n_bands * T;
  for (int64_t i0 = 0; i0 < total; i0 += threads) {
    const int64_t n = total - i0 < threads ? total - i0 : threads;
    contrast_scratch_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0,
                              stream>>>(mag, batch, n_bins, T, first, count, q, n_bands, max_q,
                                        scratch, i0, n, valley, peak);
    HP_CHECK_LAUNCH();
  }
}

}  // namespace hptrain::cuda::detail
