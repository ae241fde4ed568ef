// Per-item CPU kernels of the feature stage (private to hp_features). Spectra are bin-major
// [bins, frames] like librosa's; each thread has its own work area.
#pragma once

#include <fftw3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/contrast.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/tables.h"

// Hot loops are compiled twice, for x86-64-v3 (AVX2, FMA) and the baseline, picked at load
// time; the two may differ in the last bit (FMA), far inside every tolerance.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HP_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HP_CPU_CLONES
#endif

namespace hptrain::features::detail {

// n_fft of a spectrogram [.., 1 + n_fft/2, ..]: 2 (rows - 1), as librosa infers it.
inline int n_fft_of(const Tensor3& spec) {
  return static_cast<int>(2 * (spec.rows - 1));  // ref: librosa _spectrogram with S given
}

// Frames transformed per FFTW call (one plan_many plan), then transposed to bin-major. The FFT is
// float64 (fftw, not fftwf) like librosa's (numpy.fft on float64 windowed frames): spectral
// contrast's valleys are the smallest bins of a band, often at 1e-6 of the frame's peak, where a
// float32 FFT's rounding noise moves them by up to 5 dB.
constexpr int kFftBlock = 16;

// A work area of one thread, grown when needed and reused across calls.
struct Workspace {
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();
  // FFTW buffers for n_fft, from fftw_malloc (the alignment the shared plans assume).
  void ensure_fft(int n_fft);
  // `v` resized to at least n values; returns its data.
  template <class T>
  static T* get(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }

  int fft_n = 0;
  double* fft_in = nullptr;         // [kFftBlock, n_fft]
  fftw_complex* fft_out = nullptr;  // [kFftBlock, n_fft / 2 + 1]
  std::vector<float> edges, scratch, fft_power, power, mag, spec, mel, log_mel, mfcc, d1, d2,
      chroma, contrast, zcr, rms, valley, peak, gather, acc32, pitches, mags;
  std::vector<double> prefix, acc;
  std::vector<int32_t> crossings;
  std::vector<uint8_t> signs;
};
Workspace& thread_workspace();

// Runs fn(item, workspace) for items [0, batch) on `threads` threads (0: all cores); the first
// exception of any item is rethrown.
void for_items(int64_t batch, int threads, const std::function<void(int64_t, Workspace&)>& fn);

// numpy.pad(y, pad, mode) without copying y: only the two pads are stored (in `edges`, which
// must outlive this view), filled through pad_index.
class PaddedSignal {
 public:
  PaddedSignal(const float* y, int64_t n, int64_t pad, PadMode mode, std::vector<float>& edges);
  int64_t size() const { return n_ + 2 * pad_; }
  // Padded samples [start, start + len): a pointer into y, or, across a pad, into `scratch`
  // (len values) filled here.
  const float* span(int64_t start, int64_t len, float* scratch) const;

 private:
  const float* y_;
  int64_t n_, pad_;
  const float* left_;   // pad values before y
  const float* right_;  // pad values after y
};

// The STFT of a config: window and the shared FFTW plan (made once per n_fft, never freed).
struct StftPlan {
  explicit StftPlan(const StftConfig& cfg);
  StftConfig cfg;
  int n_fft, n_bins, hop;
  PadMode pad_mode;
  std::vector<double> window;  // [n_fft], librosa's float64 window
  fftw_plan fft;
};
// |STFT|^2 (power) and/or |STFT| (mag) of one item, each [n_bins, frames]; either may be null.
void stft_item(const StftPlan& p, const float* y, int64_t n, int64_t frames, Workspace& ws,
               float* power, float* mag);

// A filter bank [rows, cols] stored by column without its zeros (a mel filter spans a few
// bins), for products with bin-major spectra.
struct SparseBank {
  SparseBank(const std::vector<float>& dense, int rows, int cols);
  int rows, cols;
  std::vector<int> start;  // [cols + 1]: column k's entries are [start[k], start[k + 1])
  std::vector<int> row;
  std::vector<float> weight;
};
// out[r, t] = sum_k bank[r, k] spec[k, t], summed in k order, in blocks of frames that keep
// the output rows in L1.
void bank_product(const SparseBank& bank, const float* spec, int64_t frames, float* out);
// out[r, t] = sum_k w[r, k] s[k, t] for a dense w [rows, cols] (chroma bank, DCT), summed in k
// order, in register blocks of 4 rows x 8 frames.
void dense_product(const float* w, int rows, int cols, const float* s, int64_t frames, float* out);

// librosa.power_to_db of one item of n values (in and out must not overlap).
void power_to_db_item(const DbConfig& cfg, const float* in, int64_t n, float* out);

// scipy.fftpack.dct(type 2, norm) rows 0..n_mfcc-1, lifter folded in: [n_mfcc, n_mels].
std::vector<float> dct_matrix(const MfccConfig& cfg, int n_mels);

// scipy.signal.savgol_coeffs(width, polyorder, deriv, pos, use='dot') for every pos:
// weights[pos * width + j].
std::vector<double> savgol_weights(int width, int polyorder, int deriv);
// Savitzky-Golay derivative along frames of every row (frames >= width when mode is interp).
void delta_item(const std::vector<double>& weights, int width, DeltaMode mode, const float* in,
                int rows, int64_t frames, Workspace& ws, float* out);

// librosa.util.normalize(S, norm, axis=0) of float32 columns, in place; None leaves S.
void normalize_columns(const std::optional<double>& norm, float* s, int rows, int64_t frames);

// piptrack's frequency range [lo, hi) in bins: fmin 150 <= f < min(4000, sr / 2).
struct PiptrackRange {
  int lo, hi;
};
PiptrackRange piptrack_range(int sr, int n_fft);
double estimate_tuning_item(const float* power, int n_bins, int64_t frames, int sr, int n_fft,
                            PiptrackRange range, int bins_per_octave, Workspace& ws);
// estimate_tuning_item in two steps, for a file streamed in windows: the piptrack peaks (pitch,
// magnitude) of frames [t_begin, t_end) appended (each frame's peaks depend on that frame only),
// then the tuning of all the peaks gathered (order does not matter: a median and a histogram).
void tuning_peaks(const float* power, int n_bins, int64_t frames, int64_t t_begin, int64_t t_end,
                  int sr, int n_fft, PiptrackRange range, Workspace& ws,
                  std::vector<float>& pitches, std::vector<float>& mags);
double tuning_from_peaks(const std::vector<float>& pitches, const std::vector<float>& mags,
                         int bins_per_octave);

// Sub-bands of spectral contrast (features::ContrastBands of contrast.h).
ContrastBands contrast_bands(const ContrastConfig& cfg, int sr, int n_fft);
void contrast_item(const ContrastConfig& cfg, const ContrastBands& bands, const float* mag,
                   int64_t frames, Workspace& ws, float* out);
// contrast_item's first step: each band's mean of the q smallest (valley) and q largest (peak)
// magnitudes per frame, [n_bands + 1, frames] each (per frame: a file streamed in windows gets
// the same values). contrast_item then takes power_to_db of both, floored at each one's maximum
// over the item.
void contrast_peak_valley(const ContrastBands& bands, const float* mag, int64_t frames,
                          Workspace& ws, float* peak, float* valley);

// row_stats's float64 sum of f(v[t]) in 4 lanes (so that it vectorises), fed in pieces: the
// same sum as one piece when every piece but the last holds a multiple of 4 values.
struct LaneSum {
  double lanes[4] = {0, 0, 0, 0};
  template <class F>
  void add(const float* v, int64_t n, F f) {
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) {
      for (int j = 0; j < 4; ++j) lanes[j] += f(static_cast<double>(v[t + j]));
    }
    for (; t < n; ++t) lanes[0] += f(static_cast<double>(v[t]));
  }
  double total() const { return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]); }
};

// extract() on the CPU, whatever devices there are (the streamed `features` path).
void extract_cpu(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                 const FeatureSelection& what, FeatureSet& fs);

void zcr_item(const ZcrConfig& cfg, const float* y, int64_t n, int64_t frames, Workspace& ws,
              float* out);
void rms_item(const RmsConfig& cfg, PadMode mode, const float* y, int64_t n, int64_t frames,
              Workspace& ws, float* out);

// Everything derived once from a FeatureConfig, shared by all threads.
struct Plan {
  explicit Plan(const FeatureConfig& cfg);
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  FeatureConfig cfg;
  StftPlan stft;
  SparseBank mel_fb;
  std::vector<float> dct;         // [n_mfcc, n_mels]
  std::vector<double> savgol[2];  // delta orders 1 and 2
  DeltaMode delta_mode;
  PadMode rms_pad_mode;
  ContrastBands bands;
  PiptrackRange pip;
  // The chroma filter bank [n_chroma, n_bins] for a tuning, made once per tuning value.
  std::shared_ptr<const std::vector<float>> chroma_fb(double tuning) const;
  // The public form of the above with the chroma banks the GPU takes (features::feature_tables),
  // made at the first call.
  const FeatureTables& tables() const;

 private:
  mutable std::once_flag tables_once_;
  mutable FeatureTables tables_;
  mutable std::mutex chroma_mutex_;
  mutable std::map<double, std::shared_ptr<const std::vector<float>>> chroma_cache_;
};
// The plan of a config, cached (configs compare by their printed parameters).
std::shared_ptr<const Plan> plan_for(const FeatureConfig& cfg);

}  // namespace hptrain::features::detail
