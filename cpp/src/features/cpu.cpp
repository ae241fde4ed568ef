// The per-feature CPU functions on batches (hptrain/features/cpu.h), threaded over items.
#include "hptrain/features/cpu.h"

#include <cmath>
#include <limits>

#include "hptrain/error.h"
#include "hptrain/features/filters.h"
#include "kernels.h"

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

namespace {

int n_fft_of(const Tensor3& spec) {
  return static_cast<int>(2 * (spec.rows - 1));  // ref: librosa _spectrogram with S given
}

void check_delta_frames(const DeltaConfig& cfg, int64_t frames) {
  if (cfg.mode == "interp" && frames < cfg.width) {
    throw InputError("delta: when mode='interp', width=" + std::to_string(cfg.width) +
                     " cannot exceed the number of frames=" + std::to_string(frames));
  }
}

}  // namespace

void stft(const StftConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out,
          double power) {
  cfg.validate();
  const detail::StftPlan p(cfg);
  const int64_t frames = frame_count(Framing{cfg.n_fft, p.hop, cfg.center}, n_samples, "stft");
  out = Tensor3(batch, p.n_bins, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    float* o = out.item(i);
    const float* y = audio + i * n_samples;
    if (power == 2.0) {
      detail::stft_item(p, y, n_samples, frames, ws, o, nullptr);
      return;
    }
    detail::stft_item(p, y, n_samples, frames, ws, nullptr, o);
    if (power != 1.0) {
      for (int64_t j = 0; j < out.rows * frames; ++j)
        o[j] = static_cast<float>(std::pow(o[j], power));
    }
  });
}

void mel_spectrogram(const MelConfig& cfg, int sr, const Tensor3& spec, Tensor3& out) {
  cfg.validate(sr);
  const int n_fft = n_fft_of(spec);
  const detail::SparseBank fb(mel_filter_bank(cfg, sr, n_fft), cfg.n_mels,
                              static_cast<int>(spec.rows));
  Tensor3 result(spec.batch, cfg.n_mels, spec.frames);
  for_items(spec.batch, 0, [&](int64_t i, Workspace&) {
    detail::bank_product(fb, spec.item(i), spec.frames, result.item(i));
  });
  out = std::move(result);
}

void power_to_db(const DbConfig& cfg, const Tensor3& in, Tensor3& out) {
  cfg.validate();
  Tensor3 result(in.batch, in.rows, in.frames);
  for (int64_t i = 0; i < in.batch; ++i) {
    detail::power_to_db_item(cfg, in.item(i), in.rows * in.frames, result.item(i));
  }
  out = std::move(result);
}

void mfcc(const MfccConfig& cfg, const Tensor3& log_mel, Tensor3& out) {
  cfg.validate(static_cast<int>(log_mel.rows));
  const std::vector<float> d = detail::dct_matrix(cfg, static_cast<int>(log_mel.rows));
  Tensor3 result(log_mel.batch, cfg.n_mfcc, log_mel.frames);
  for (int64_t i = 0; i < log_mel.batch; ++i) {
    detail::dense_product(d.data(), cfg.n_mfcc, static_cast<int>(log_mel.rows), log_mel.item(i),
                          log_mel.frames, result.item(i));
  }
  out = std::move(result);
}

void delta(const DeltaConfig& cfg, int order, const Tensor3& in, Tensor3& out) {
  cfg.validate();
  if (order < 1 || order >= cfg.width) {
    throw ConfigError("delta order = " + std::to_string(order) + ": must be in [1, width)");
  }
  check_delta_frames(cfg, in.frames);
  const std::vector<double> w = detail::savgol_weights(cfg.width, order, order);
  const DeltaMode mode = parse_delta_mode(cfg.mode);
  Tensor3 result(in.batch, in.rows, in.frames);
  for (int64_t i = 0; i < in.batch; ++i) {
    detail::delta_item(w, cfg.width, mode, in.item(i), static_cast<int>(in.rows), in.frames,
                       detail::thread_workspace(), result.item(i));
  }
  out = std::move(result);
}

double estimate_tuning(const float* spec, int64_t bins, int64_t frames, int sr,
                       int bins_per_octave) {
  const int n_fft = static_cast<int>(2 * (bins - 1));
  return detail::estimate_tuning_item(spec, static_cast<int>(bins), frames, sr, n_fft,
                                      detail::piptrack_range(sr, n_fft), bins_per_octave,
                                      detail::thread_workspace());
}

void chroma_stft(const ChromaConfig& cfg, int sr, const Tensor3& power_spec, Tensor3& out,
                 std::vector<double>* tuning) {
  cfg.validate();
  const int n_fft = n_fft_of(power_spec);
  const int rows = static_cast<int>(power_spec.rows);
  Tensor3 result(power_spec.batch, cfg.n_chroma, power_spec.frames);
  std::vector<double> used(static_cast<size_t>(power_spec.batch));
  for_items(power_spec.batch, 0, [&](int64_t i, Workspace&) {
    used[i] = cfg.tuning
                  ? *cfg.tuning
                  : estimate_tuning(power_spec.item(i), rows, power_spec.frames, sr, cfg.n_chroma);
    detail::dense_product(chroma_filter_bank(cfg, sr, n_fft, used[i]).data(), cfg.n_chroma, rows,
                          power_spec.item(i), power_spec.frames, result.item(i));
    detail::normalize_columns(cfg.norm, result.item(i), cfg.n_chroma, power_spec.frames);
  });
  out = std::move(result);
  if (tuning != nullptr) *tuning = std::move(used);
}

void spectral_contrast(const ContrastConfig& cfg, int sr, const Tensor3& magnitude, Tensor3& out) {
  cfg.validate(sr);
  const detail::ContrastBands bands = detail::contrast_bands(cfg, sr, n_fft_of(magnitude));
  Tensor3 result(magnitude.batch, cfg.n_bands + 1, magnitude.frames);
  for_items(magnitude.batch, 0, [&](int64_t i, Workspace& ws) {
    detail::contrast_item(cfg, bands, magnitude.item(i), magnitude.frames, ws, result.item(i));
  });
  out = std::move(result);
}

void zero_crossing_rate(const ZcrConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                        Tensor3& out) {
  cfg.validate();
  const int64_t frames =
      frame_count(Framing{cfg.frame_length, cfg.hop_length, cfg.center}, n_samples, "zcr");
  out = Tensor3(batch, 1, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    detail::zcr_item(cfg, audio + i * n_samples, n_samples, frames, ws, out.item(i));
  });
}

void rms(const RmsConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out) {
  cfg.validate();
  const int64_t frames =
      frame_count(Framing{cfg.frame_length, cfg.hop_length, cfg.center}, n_samples, "rms");
  const PadMode mode = parse_pad_mode(cfg.pad_mode);
  out = Tensor3(batch, 1, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    detail::rms_item(cfg, mode, audio + i * n_samples, n_samples, frames, ws, out.item(i));
  });
}

namespace {
// sum of f(v[t]) in float64, in 4 lanes so that it vectorises
template <class F>
double lane_sum(const float* v, int64_t n, F f) {
  detail::LaneSum sum;
  sum.add(v, n, f);
  return sum.total();
}
}  // namespace

void row_stats(const float* x, int64_t rows, int64_t frames, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = x + r * frames;
    const double mean = lane_sum(v, frames, [](double a) { return a; }) / frames;
    const double ss = lane_sum(v, frames, [mean](double a) { return (a - mean) * (a - mean); });
    out[2 * r] = static_cast<float>(mean);
    out[2 * r + 1] = static_cast<float>(std::sqrt(ss / frames));
  }
}

}  // namespace hptrain::features
