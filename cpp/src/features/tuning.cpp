// librosa.estimate_tuning on the CPU (twin of cuda/src/tuning.cu): piptrack's peaks, then
// pitch_tuning's histogram, in fractions of a chroma bin.
#include "kernels.h"
#include "tuning_kernels.h"

#include <algorithm>
#include <cmath>

#include "hptrain/features/filters.h"
#include "hptrain/features/tuning.h"

namespace hptrain::features::detail {

PiptrackRange piptrack_range(int sr, int n_fft) {
  const double fmin = tuning::kFmin, fmax = std::min(tuning::kFmax, sr / 2.0);
  const int n_bins = n_fft / 2 + 1;
  PiptrackRange r{n_bins, n_bins};
  for (int k = n_bins - 1; k >= 0; --k) {
    const double f = fft_frequency(k, sr, n_fft);
    if (f >= fmin) r.lo = k;
    if (f >= fmax) r.hi = k;
  }
  return r;
}

// ref: librosa/core/pitch.py estimate_tuning(S=power) -> piptrack(threshold=0.1, ref=np.max)
// -> pitch_tuning(resolution=0.01). S is float32, so piptrack's arithmetic is float32 except
// the numba stencil's float64 intermediates (_pi_stencil) and the pitch (int64 + float32); the
// per-peak arithmetic is hptrain/features/tuning.h, shared with the GPU twin.
double estimate_tuning_item(const float* s, int n_bins, int64_t frames, int sr, int n_fft,
                            PiptrackRange range, int bins_per_octave, Workspace& ws) {
  ws.pitches.clear();
  ws.mags.clear();
  tuning_peaks(s, n_bins, frames, 0, frames, sr, n_fft, range, ws, ws.pitches, ws.mags);
  return tuning_from_peaks(ws.pitches, ws.mags, bins_per_octave);
}

void tuning_peaks(const float* s, int n_bins, int64_t frames, int64_t t_begin, int64_t t_end,
                  int sr, int n_fft, PiptrackRange range, Workspace& ws,
                  std::vector<float>& pitches, std::vector<float>& mags) {
  float* ref = Workspace::get(ws.gather, static_cast<size_t>(frames));
  std::fill(ref, ref + frames, 0.0f);
  for (int k = 0; k < n_bins; ++k) {
    const float* row = s + k * frames;
    for (int64_t t = 0; t < frames; ++t) ref[t] = std::max(ref[t], row[t]);
  }
  for (int64_t t = 0; t < frames; ++t) ref[t] = tuning::kThreshold * ref[t];
  // rows k - 1, k, k + 1 of S * (S > ref_value), and the local-maximum mask of row k
  float* rows3 = Workspace::get(ws.acc32, static_cast<size_t>(3) * frames);
  uint8_t* peak = Workspace::get(ws.signs, static_cast<size_t>(frames));
  auto thresholded = [&](int k, float* out) {
    const float* row = s + k * frames;
    for (int64_t t = 0; t < frames; ++t) out[t] = row[t] > ref[t] ? row[t] : 0.0f;
  };
  const int last = n_bins - 1;
  const int k_first = std::max(range.lo, 1);
  if (k_first < range.hi) {
    thresholded(k_first - 1, rows3 + ((k_first - 1) % 3) * frames);
    thresholded(k_first, rows3 + (k_first % 3) * frames);
  }
  for (int k = k_first; k < range.hi; ++k) {
    const float* xp = rows3 + ((k - 1) % 3) * frames;
    const float* xk = rows3 + (k % 3) * frames;
    float* xn = rows3 + ((k + 1) % 3) * frames;
    // ref: librosa/util/utils.py localmax: x[k] > x[k-1] and x[k] >= x[k+1]; the last bin only
    // needs x[k] > x[k-1]
    if (k < last) {
      thresholded(k + 1, xn);
      for (int64_t t = 0; t < frames; ++t) peak[t] = (xk[t] > xp[t]) & (xk[t] >= xn[t]);
    } else {
      for (int64_t t = 0; t < frames; ++t) peak[t] = xk[t] > xp[t];
    }
    for (int64_t t = t_begin; t < t_end; ++t) {
      if (!peak[t]) continue;
      const float sn = k < last ? s[(k + 1) * frames + t] : 0.0f;
      const tuning::Peak pk =
          tuning::peak(s[(k - 1) * frames + t], s[k * frames + t], sn, k, k == last, sr, n_fft);
      pitches.push_back(pk.pitch);
      mags.push_back(pk.mag);
    }
  }
}

double tuning_from_peaks(const std::vector<float>& pitches, const std::vector<float>& mags,
                         int bins_per_octave) {
  if (pitches.empty()) return 0.0;
  // threshold = np.median(mag[pitch > 0]) in float32
  std::vector<float> sorted = mags;
  const size_t half = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + half, sorted.end());
  float threshold = sorted[half];
  if (sorted.size() % 2 == 0) {
    const float below = *std::max_element(sorted.begin(), sorted.begin() + half);
    threshold = (below + threshold) / 2.0f;
  }
  tuning::Histogram h;
  for (size_t i = 0; i < pitches.size(); ++i)
    h.add(pitches[i], mags[i], threshold, bins_per_octave);
  return h.tuning();
}

}  // namespace hptrain::features::detail

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

double estimate_tuning(const float* spec, int64_t bins, int64_t frames, int sr,
                       int bins_per_octave) {
  const int n_fft = static_cast<int>(2 * (bins - 1));
  return detail::estimate_tuning_item(spec, static_cast<int>(bins), frames, sr, n_fft,
                                      detail::piptrack_range(sr, n_fft), bins_per_octave,
                                      detail::thread_workspace());
}

}  // namespace hptrain::features
