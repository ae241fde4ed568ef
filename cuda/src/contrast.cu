// Spectral contrast's per-band valley and peak: the q smallest and largest bins of each band by
// insertion into two sorted runs per thread (selection, no full sort), in registers or, for
// large q or many bands, in global-memory scratch; twin of contrast_item.
#include <algorithm>
#include <cfloat>
#include <vector>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/nvtx.h"
#include "launch.h"

namespace hptrain::cuda::detail {

// This stage's launchers (private to it; launch.h holds what stages share).

// Spectral contrast's valley and peak (mean of the q smallest and largest bins of each band),
// [batch, bands.n, T] each.
void contrast_select(const float* mag, int64_t batch, int n_bins, int64_t T, const Bands& bands,
                     float* valley, float* peak, cudaStream_t stream);
// The same for any number of bands and any q: bands as device arrays first, count, q
// [n_bands]; each thread's q smallest and largest in `scratch`, 2 max_q floats per thread for
// `threads` threads at a time (launches in turn on `stream` share it).
void contrast_select_scratch(const float* mag, int64_t batch, int n_bins, int64_t T,
                             const int* first, const int* count, const int* q, int n_bands,
                             int max_q, float* scratch, int64_t threads, float* valley, float* peak,
                             cudaStream_t stream);

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

namespace hptrain::cuda {

namespace {

// Scratch of spectral contrast's global-memory selection: 64 MiB, whatever the batch.
constexpr int64_t kContrastScratchBytes = int64_t{64} << 20;

}  // namespace

bool contrast_in_registers(const std::vector<int>& q) {
  if (static_cast<int>(q.size()) > Bands::kMax) return false;
  return std::all_of(q.begin(), q.end(), [](int v) { return v >= 1 && v <= Bands::kMaxQ; });
}

void spectral_contrast(const features::ContrastConfig& cfg, const features::ContrastBands& bands,
                       const FrameBatch& mag, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("contrast");
  const std::vector<int>& first = bands.first;
  const std::vector<int>& count = bands.count;
  const std::vector<int>& q = bands.q;
  const float* magnitude = mag.data;
  const int64_t batch = mag.batch, frames = mag.frames;
  const int n_bins = mag.rows;
  const int n_bands = static_cast<int>(first.size());
  if (count.size() != first.size() || q.size() != first.size()) {
    throw InputError("spectral_contrast: " + std::to_string(first.size()) + " band starts, " +
                     std::to_string(count.size()) + " counts and " + std::to_string(q.size()) +
                     " quantile sizes");
  }
  const int max_q = q.empty() ? 0 : *std::max_element(q.begin(), q.end());
  if (n_bands == 0 || *std::min_element(q.begin(), q.end()) < 1) {
    throw InputError("spectral_contrast: every band needs a quantile size q >= 1");
  }
  const int64_t n = batch * n_bands * frames;
  DeviceBuffer<float> valley(static_cast<size_t>(n), stream);
  if (contrast_in_registers(q)) {
    Bands in_registers;
    in_registers.n = n_bands;
    std::copy(first.begin(), first.end(), in_registers.first);
    std::copy(count.begin(), count.end(), in_registers.count);
    std::copy(q.begin(), q.end(), in_registers.q);
    detail::contrast_select(magnitude, batch, n_bins, frames, in_registers, valley.data(), out,
                            stream);
  } else {
    // many bands or large q: the same selection with each thread's runs in global memory, at
    // most kContrastScratchBytes of them at a time
    std::vector<int> table(first);
    table.insert(table.end(), count.begin(), count.end());
    table.insert(table.end(), q.begin(), q.end());
    const DeviceBuffer<int> d = to_device(table, stream);
    const int64_t per_thread = 2 * static_cast<int64_t>(max_q) * sizeof(float);
    const int64_t threads =
        std::max<int64_t>(1, std::min<int64_t>(n, kContrastScratchBytes / per_thread));
    DeviceBuffer<float> scratch(static_cast<size_t>(threads * 2 * max_q), stream);
    detail::contrast_select_scratch(magnitude, batch, n_bins, frames, d.data(), d.data() + n_bands,
                                    d.data() + 2 * n_bands, n_bands, max_q, scratch.data(), threads,
                                    valley.data(), out, stream);
  }
  if (!cfg.linear) {
    // ref: librosa spectral_contrast: power_to_db(peak) - power_to_db(valley), librosa's
    // defaults, each floored at its own maximum over the item
    const features::DbConfig defaults;
    const FrameBatch v{valley.data(), batch, n_bands, frames, mag.valid};
    const FrameBatch p{out, batch, n_bands, frames, mag.valid};
    power_to_db(defaults, v, valley.data(), stream);
    power_to_db(defaults, p, out, stream);
  }
  detail::subtract(out, valley.data(), out, n, stream);
}

}  // namespace hptrain::cuda
