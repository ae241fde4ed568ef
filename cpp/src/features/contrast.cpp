// librosa.feature.spectral_contrast on the CPU (twin of cuda/src/contrast.cu): octave bands,
// the mean of each band's q smallest and largest magnitudes, their dB difference.
#include "contrast_kernels.h"
#include "kernels.h"
#include "spectral_kernels.h"

#include <algorithm>
#include <cmath>

#include "hptrain/features/contrast.h"
#include "hptrain/features/filters.h"

namespace hptrain::features::detail {

// ref: librosa/feature/spectral.py spectral_contrast: octave bands [0, fmin], [fmin, 2 fmin],
// ..., the last up to Nyquist; each band above the first also takes the bin just below it, each
// band but the last drops its top bin; q = max(1, rint(quantile * bins before the drop)).
ContrastBands contrast_bands(const ContrastConfig& cfg, int sr, int n_fft) {
  const int n_bins = n_fft / 2 + 1;
  ContrastBands b;
  for (int k = 0; k <= cfg.n_bands; ++k) {
    const double f_low = k == 0 ? 0.0 : cfg.fmin * std::pow(2.0, k - 1);
    const double f_high = cfg.fmin * std::pow(2.0, k);
    int first = -1, last = -1;
    for (int i = 0; i < n_bins; ++i) {
      const double f = fft_frequency(i, sr, n_fft);
      if (f >= f_low && f <= f_high) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0 || (k > 0 && first == 0)) {
      throw ConfigError("contrast band " + std::to_string(k) + " holds no FFT bin at n_fft=" +
                        std::to_string(n_fft) + "; raise n_fft or change contrast.fmin");
    }
    if (k > 0) --first;
    if (k == cfg.n_bands) last = n_bins - 1;
    const int total = last - first + 1;
    const int count = k < cfg.n_bands ? total - 1 : total;
    if (count < 1) {
      throw ConfigError("contrast band " + std::to_string(k) + " holds a single FFT bin at n_fft=" +
                        std::to_string(n_fft) + "; raise n_fft or change contrast.fmin");
    }
    b.first.push_back(first);
    b.count.push_back(count);
    b.q.push_back(std::max(1, static_cast<int>(std::nearbyint(cfg.quantile * total))));
  }
  return b;
}

namespace {
// One level of the insertion cascade: l keeps the smaller, h the larger; the rest passes on.
inline void cascade_step(float* __restrict l, float* __restrict h, const float* __restrict in_a,
                         const float* __restrict in_c, float* __restrict out_a,
                         float* __restrict out_c, int64_t n) {
  for (int64_t t = 0; t < n; ++t) {
    const float lt = l[t], ht = h[t], va = in_a[t], vc = in_c[t];
    l[t] = std::min(lt, va);
    out_a[t] = std::max(lt, va);
    h[t] = std::max(ht, vc);
    out_c[t] = std::min(ht, vc);
  }
}
}  // namespace

// np.sort(band)[:q] and [-q:] per frame. Small q: an insertion cascade over the band's rows (a
// min/max network, vectorised over frames) keeps the q smallest and largest in order; large q:
// a per-frame selection. Both then sum in ascending order, in float32 like np.mean.
HP_CPU_CLONES
void contrast_peak_valley(const ContrastBands& bands, const float* mag, int64_t frames,
                          Workspace& ws, float* peak, float* valley) {
  constexpr int kCascade = 16;
  const int nb = static_cast<int>(bands.first.size());
  for (int b = 0; b < nb; ++b) {
    const int k0 = bands.first[b], count = bands.count[b], q = bands.q[b];
    float* v = valley + b * frames;
    float* pk = peak + b * frames;
    if (q <= kCascade) {
      // lo[i][t]: i-th smallest so far (ascending); hi[i][t]: i-th largest (descending)
      float* lo = Workspace::get(ws.gather, static_cast<size_t>(2 * q) * frames);
      float* hi = lo + static_cast<size_t>(q) * frames;
      std::fill(lo, lo + q * frames, std::numeric_limits<float>::infinity());
      std::fill(hi, hi + q * frames, -std::numeric_limits<float>::infinity());
      // what level i passes down to level i + 1, ping-ponged between two buffers
      float* pass = Workspace::get(ws.acc32, static_cast<size_t>(4 * frames));
      for (int k = k0; k < k0 + count; ++k) {
        const float* row = mag + k * frames;
        for (int i = 0; i < q; ++i) {
          const float* in_a = i == 0 ? row : pass + (i % 2) * 2 * frames;
          const float* in_c = i == 0 ? row : in_a + frames;
          float* out_a = pass + ((i + 1) % 2) * 2 * frames;
          cascade_step(lo + i * frames, hi + i * frames, in_a, in_c, out_a, out_a + frames, frames);
        }
      }
      for (int64_t t = 0; t < frames; ++t) {
        float sl = 0, sh = 0;
        for (int i = 0; i < q; ++i) sl += lo[i * frames + t];
        for (int i = q - 1; i >= 0; --i) sh += hi[i * frames + t];
        v[t] = sl / static_cast<float>(q);
        pk[t] = sh / static_cast<float>(q);
      }
      continue;
    }
    float* g = Workspace::get(ws.gather, static_cast<size_t>(count));
    for (int64_t t = 0; t < frames; ++t) {
      for (int i = 0; i < count; ++i) g[i] = mag[(k0 + i) * frames + t];
      std::nth_element(g, g + q, g + count);
      std::sort(g, g + q);
      float sum = 0;
      for (int i = 0; i < q; ++i) sum += g[i];
      v[t] = sum / static_cast<float>(q);
      std::nth_element(g, g + (count - q), g + count);
      std::sort(g + (count - q), g + count);
      sum = 0;
      for (int i = count - q; i < count; ++i) sum += g[i];
      pk[t] = sum / static_cast<float>(q);
    }
  }
}

void contrast_item(const ContrastConfig& cfg, const ContrastBands& bands, const float* mag,
                   int64_t frames, Workspace& ws, float* out) {
  const int nb = static_cast<int>(bands.first.size());
  float* valley = Workspace::get(ws.valley, static_cast<size_t>(nb) * frames);
  float* peak = Workspace::get(ws.peak, static_cast<size_t>(nb) * frames);
  contrast_peak_valley(bands, mag, frames, ws, peak, valley);
  const int64_t n = static_cast<int64_t>(nb) * frames;
  if (cfg.linear) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(double(peak[i]) - double(valley[i]));
    return;
  }
  // power_to_db(peak) - power_to_db(valley) with librosa's defaults, each floored at its own
  // maximum over the item's bands and frames (librosa does this in float64; the dB values here
  // are within 1e-5 dB of it)
  const DbConfig defaults;
  float* db = Workspace::get(ws.gather, static_cast<size_t>(n));
  power_to_db_item(defaults, valley, n, db);
  power_to_db_item(defaults, peak, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] -= db[i];
}

}  // namespace hptrain::features::detail

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

void spectral_contrast(const ContrastConfig& cfg, int sr, const Tensor3& magnitude, Tensor3& out) {
  cfg.validate(sr);
  const ContrastBands bands = detail::contrast_bands(cfg, sr, detail::n_fft_of(magnitude));
  Tensor3 result(magnitude.batch, cfg.n_bands + 1, magnitude.frames);
  for_items(magnitude.batch, 0, [&](int64_t i, Workspace& ws) {
    detail::contrast_item(cfg, bands, magnitude.item(i), magnitude.frames, ws, result.item(i));
  });
  out = std::move(result);
}

}  // namespace hptrain::features
