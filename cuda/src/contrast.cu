// Spectral contrast's per-band valley and peak: the q smallest and largest bins of each band by
// insertion into two sorted runs per thread (selection, no full sort); twin of contrast_item.
#include <cfloat>

#include "hptrain/cuda/check.h"
#include "launch.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kThreads = 128;

// One thread per (item, band, frame); neighbouring threads read neighbouring frames.
__global__ void contrast_kernel(const float* mag, int64_t batch, int n_bins, int64_t T, Bands bands,
                                float* valley, float* peak) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * bands.n * T) return;
  const int64_t row = i / T, t = i - row * T;
  const int64_t b = row / bands.n;
  const int band = static_cast<int>(row - b * bands.n);
  const int q = bands.q[band];
  float lo[Bands::kMaxQ];  // ascending: the q smallest so far
  float hi[Bands::kMaxQ];  // descending: the q largest so far
  for (int j = 0; j < q; ++j) {
    lo[j] = FLT_MAX;
    hi[j] = -FLT_MAX;
  }
  const float* x = mag + (b * n_bins + bands.first[band]) * T + t;
  for (int k = 0; k < bands.count[band]; ++k) {
    const float v = x[k * T];
    if (v < lo[q - 1]) {
      int j = q - 1;
      for (; j > 0 && lo[j - 1] > v; --j) lo[j] = lo[j - 1];
      lo[j] = v;
    }
    if (v > hi[q - 1]) {
      int j = q - 1;
      for (; j > 0 && hi[j - 1] < v; --j) hi[j] = hi[j - 1];
      hi[j] = v;
    }
  }
  // ref: librosa spectral_contrast: np.mean(np.sort(band)[:q]) and [-q:], summed ascending
  float sl = 0, sh = 0;
  for (int j = 0; j < q; ++j) sl += lo[j];
  for (int j = q - 1; j >= 0; --j) sh += hi[j];
  valley[i] = sl / static_cast<float>(q);
  peak[i] = sh / static_cast<float>(q);
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

}  // namespace hptrain::cuda::detail
