// librosa.estimate_tuning on the device, per item and batched: piptrack's thresholded local
// maxima, their median magnitude (a segmented sort), pitch_tuning's residual histogram and its
// first fullest bin; the per-peak arithmetic is features/tuning.h, the CPU twin's own.
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/framing.h"
#include "hptrain/cuda/nvtx.h"
#include "hptrain/cuda/resources.h"
#include "hptrain/features/tuning.h"

namespace hptrain::cuda::detail {

// This stage's launcher (private to it; launch.h holds what stages share).

// estimate_tuning of every item of power [batch, n_bins, T] over its valid frames (see
// features.h): piptrack's peaks of bins [k_first, k_end), their median magnitude (a segmented
// sort), the residual histogram, its first fullest bin. Scratch from the pool.
void estimate_tuning(const float* power, int64_t batch, int n_bins, int64_t T, ValidFrames v,
                     int sr, int n_fft, int k_first, int k_end, int bins_per_octave, double* tuning,
                     int* bank, cudaStream_t stream);

namespace {

namespace tn = features::tuning;

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// ref[b, t] = 0.1 x the largest bin of frame t (piptrack's ref=np.max per frame, threshold).
__global__ void frame_ref_kernel(const float* power, int64_t batch, int n_bins, int64_t T,
                                 float* ref) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * T) return;
  const int64_t b = i / T, t = i - b * T;
  const float* x = power + b * n_bins * T + t;
  float m = 0.0f;
  for (int k = 0; k < n_bins; ++k) m = fmaxf(m, x[k * T]);
  ref[i] = mul_rn(tn::kThreshold, m);
}

// Candidate (b, k, t), k in [k_first, k_end): whether it is a peak of piptrack, and its Peak.
struct Candidates {
  const float* power;
  const float* ref;
  int64_t T;
  int n_bins, k_first, n_k, sr, n_fft;
  ValidFrames v;
  __device__ bool peak(int64_t i, int64_t& b, tn::Peak& out) const {
    const int64_t per_item = static_cast<int64_t>(n_k) * T;
    b = i / per_item;
    const int64_t rest = i - b * per_item;
    const int k = k_first + static_cast<int>(rest / T);
    const int64_t t = rest - (k - k_first) * T;
    if (t >= v(b)) return false;  // past the item's own frames
    const float* x = power + b * n_bins * T + t;
    const float r = ref[b * T + t];
    const bool last = k == n_bins - 1;
    // ref: librosa piptrack: S * (S > ref); localmax: x[k] > x[k-1] and x[k] >= x[k+1] (the
    // last bin: x[k] > x[k-1] only)
    const float sp = x[(k - 1) * T], sk = x[k * T], sn = last ? 0.0f : x[(k + 1) * T];
    const float xp = sp > r ? sp : 0.0f, xk = sk > r ? sk : 0.0f, xn = sn > r ? sn : 0.0f;
    if (!(xk > xp) || (!last && !(xk >= xn))) return false;
    out = tn::peak(sp, sk, sn, k, last, sr, n_fft);
    return true;
  }
};

// mags[i] = the peak's magnitude, +inf where none (sorted past every peak); count[b] += peaks.
__global__ void peaks_kernel(Candidates c, int64_t n, float* mags, unsigned* count) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int64_t b;
  tn::Peak p;
  if (c.peak(i, b, p)) {
    mags[i] = p.mag;
    atomicAdd(&count[b], 1u);
  } else {
    mags[i] = __int_as_float(0x7f800000);  // +inf
  }
}

// The median of item b's peak magnitudes (np.median in float32) from its sorted segment.
__device__ float median(const float* sorted, int64_t per_item, int64_t b, unsigned n) {
  const float* s = sorted + b * per_item;
  const unsigned half = n / 2;
  return n % 2 == 1 ? s[half] : add_rn(s[half - 1], s[half]) / 2.0f;
}

// pitch_tuning: every peak with mag >= the item's median and pitch > 0 counts in its bin.
__global__ void histogram_kernel(Candidates c, int64_t n, const float* sorted,
                                 const unsigned* count, int bins_per_octave, unsigned* hist,
                                 unsigned* any) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int64_t b;
  tn::Peak p;
  if (!c.peak(i, b, p)) return;
  const float threshold = median(sorted, static_cast<int64_t>(c.n_k) * c.T, b, count[b]);
  if (!(p.mag >= threshold) || !(p.pitch > 0)) return;
  atomicOr(&any[b], 1u);
  const int bin = tn::bin_of(p.pitch, bins_per_octave);
  if (bin >= 0) atomicAdd(&hist[b * tn::kBins + bin], 1u);
}

// One thread per item: the left edge of the first fullest bin; 0 (bank kBins) without peaks.
__global__ void pick_kernel(const unsigned* hist, const unsigned* any, int64_t batch,
                            double* tuning, int* bank) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  if (any[b] == 0) {
    tuning[b] = 0.0;
    bank[b] = tn::kBins;
    return;
  }
  const unsigned* h = hist + b * tn::kBins;
  int best = 0;
  for (int i = 1; i < tn::kBins; ++i) {
    if (h[i] > h[best]) best = i;
  }
  tuning[b] = tn::edge(best);
  bank[b] = best;
}

}  // namespace

void estimate_tuning(const float* power, int64_t batch, int n_bins, int64_t T, ValidFrames v,
                     int sr, int n_fft, int k_first, int k_end, int bins_per_octave, double* tuning,
                     int* bank, cudaStream_t stream) {
  if (batch == 0) return;
  const auto counters = zeros<unsigned>(static_cast<size_t>(batch) * (tn::kBins + 2), stream);
  unsigned* hist = counters.data();            // [batch, kBins]
  unsigned* count = hist + batch * tn::kBins;  // [batch]: peaks
  unsigned* any = count + batch;               // [batch]: a peak at or above the median
  const int n_k = k_end - k_first;
  const int64_t per_item = n_k > 0 ? n_k * T : 0;
  if (per_item > 0 && T > 0) {
    DeviceBuffer<float> ref(static_cast<size_t>(batch * T), stream);
    frame_ref_kernel<<<blocks_for(batch * T), kThreads, 0, stream>>>(power, batch, n_bins, T,
                                                                     ref.data());
    HP_CHECK_LAUNCH();
    const Candidates c{power, ref.data(), T, n_bins, k_first, n_k, sr, n_fft, v};
    const int64_t n = batch * per_item;
    DeviceBuffer<float> mags(static_cast<size_t>(n), stream),
        sorted(static_cast<size_t>(n), stream);
    peaks_kernel<<<blocks_for(n), kThreads, 0, stream>>>(c, n, mags.data(), count);
    HP_CHECK_LAUNCH();
    // segments of per_item values, as many items per sort as int offsets allow
    const int64_t items = INT_MAX / per_item;
    if (items < 1) {
      throw InputError("estimate_tuning: " + std::to_string(per_item) +
                       " piptrack candidates per item exceed the sort's int range");
    }
    std::vector<int> offsets(static_cast<size_t>(std::min(items, batch) + 1));
    for (size_t i = 0; i < offsets.size(); ++i) offsets[i] = static_cast<int>(i * per_item);
    const DeviceBuffer<int> d_offsets = to_device(offsets, stream);
    for (int64_t b0 = 0; b0 < batch; b0 += items) {
      const int nb = static_cast<int>(std::min(items, batch - b0));
      const int m = static_cast<int>(nb * per_item);
      const float* in = mags.data() + b0 * per_item;
      float* out = sorted.data() + b0 * per_item;
      size_t bytes = 0;
      HP_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(
          nullptr, bytes, in, out, m, nb, d_offsets.data(), d_offsets.data() + 1, 0, 32, stream));
      DeviceBuffer<char> temp(bytes, stream);
      HP_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(temp.data(), bytes, in, out, m, nb,
                                                            d_offsets.data(), d_offsets.data() + 1,
                                                            0, 32, stream));
    }
    histogram_kernel<<<blocks_for(n), kThreads, 0, stream>>>(c, n, sorted.data(), count,
                                                             bins_per_octave, hist, any);
    HP_CHECK_LAUNCH();
  }
  pick_kernel<<<blocks_for(batch), kThreads, 0, stream>>>(hist, any, batch, tuning, bank);
  HP_CHECK_LAUNCH();
}

}  // namespace hptrain::cuda::detail

namespace hptrain::cuda {

void estimate_tuning(const FrameBatch& power_spec, int sr, int pip_lo, int pip_hi,
                     int bins_per_octave, double* tuning, int* bank, cudaStream_t stream) {
  HP_NVTX_RANGE("tuning");
  // ref: features' estimate_tuning_item: bins [max(lo, 1), hi), each against its neighbours
  detail::estimate_tuning(power_spec.data, power_spec.batch, power_spec.rows, power_spec.frames,
                          power_spec.valid, sr, power_spec.valid.framing.frame, std::max(pip_lo, 1),
                          pip_hi, bins_per_octave, tuning, bank, stream);
}

}  // namespace hptrain::cuda
