// One extraction planned once, for both devices: what a selection needs (stats need every pooled
// feature), the frame counts of the STFT, ZCR and RMS, the output shapes, the pooled statistics'
// layout and column names, and the input checks. Read by features::extract (CPU),
// cuda::FeatureExtractor::run and stats_columns. Counts in samples, frames and rows.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "hptrain/error.h"
#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/stft.h"

namespace hptrain::features {

struct FeatureNeeds {
  bool mag, power, mel, log_mel, mfcc, deltas, chroma, contrast, zcr, rms, stats;
};

inline FeatureNeeds needs_of(const FeatureSelection& w, const FeatureConfig& cfg) {
  FeatureNeeds n{};
  n.stats = w.stats;
  n.deltas = w.deltas || w.stats;
  n.mfcc = w.mfcc || n.deltas;
  n.log_mel = w.log_mel || n.mfcc;
  n.mel = w.melspectrogram || n.log_mel;
  n.chroma = w.chroma || w.stats;
  n.contrast = w.contrast || w.stats;
  n.zcr = w.zcr || w.stats;
  n.rms = w.rms || w.stats;
  n.power = n.chroma || (n.mel && cfg.mel.power == 2.0);
  n.mag = w.stft_mag || n.contrast || (n.mel && cfg.mel.power != 2.0);
  return n;
}

// The outputs of FeatureSet, in its order.
enum class Output : int {
  stft_mag,
  melspectrogram,
  log_mel,
  mfcc,
  mfcc_delta,
  mfcc_delta2,
  chroma_stft,
  spectral_contrast,
  zcr,
  rms,
  stats,
  count
};

// One output's item shape [rows, frames]; kept: selected, so allocated and returned.
struct OutputShape {
  bool kept = false;
  int64_t rows = 0, frames = 0;
};

// The pooled statistics: for each block in order, the mean and std of each of its rows
// (row_stats), 2 rows values. `source` is the output pooled; `name` the columns' prefix.
struct StatsBlock {
  Output source;
  const char* name;
  int rows;
};
using StatsLayout = std::array<StatsBlock, 7>;

inline StatsLayout stats_layout(const FeatureConfig& cfg) {
  const int n_mfcc = cfg.mfcc.n_mfcc;
  return {{{Output::mfcc, "mfcc", n_mfcc},
           {Output::mfcc_delta, "mfcc_delta", n_mfcc},
           {Output::mfcc_delta2, "mfcc_delta2", n_mfcc},
           {Output::chroma_stft, "chroma", cfg.chroma.n_chroma},
           {Output::spectral_contrast, "contrast", cfg.contrast.n_bands + 1},
           {Output::zcr, "zcr", 1},
           {Output::rms, "rms", 1}}};
}

// The framings of the STFT-based features, ZCR and RMS.
inline Framing stft_framing(const FeatureConfig& cfg) {
  return stft_framing(cfg.stft);
}
inline Framing zcr_framing(const FeatureConfig& cfg) {
  return Framing{cfg.zcr.frame_length, cfg.zcr.hop_length, cfg.zcr.center};
}
inline Framing rms_framing(const FeatureConfig& cfg) {
  return Framing{cfg.rms.frame_length, cfg.rms.hop_length, cfg.rms.center};
}

struct ExtractPlan {
  FeatureNeeds need{};
  Framing stft, zcr, rms;
  int64_t frames = 0;                                                 // T: STFT frames of n_samples
  int64_t zcr_frames = 0, rms_frames = 0;                             // 0 when not needed
  int n_bins = 0, n_mels = 0, n_mfcc = 0, n_chroma = 0, n_bands = 0;  // n_bands + 1 of contrast
  StatsLayout stats_blocks{};
  int64_t n_stats = 0;  // columns of the pooled statistics
  std::array<OutputShape, static_cast<size_t>(Output::count)> outputs{};

  const OutputShape& shape(Output o) const { return outputs[static_cast<size_t>(o)]; }
  // The framing a pooled block's frames come from, and their count.
  Framing framing_of(const StatsBlock& b) const {
    return b.source == Output::zcr ? zcr : b.source == Output::rms ? rms : stft;
  }
  int64_t frames_of(const StatsBlock& b) const {
    return b.source == Output::zcr ? zcr_frames : b.source == Output::rms ? rms_frames : frames;
  }
};

// The plan of a validated config for clips of n_samples (padded: the batch's row length), the
// shortest of which has `shortest` samples. Throws InputError, as librosa would, when the
// shortest clip is empty or shorter than a frame without centring (STFT, then ZCR and RMS when
// needed), or when deltas are needed in mode "interp" and it has fewer than delta.width frames.
inline ExtractPlan plan_extraction(const FeatureConfig& cfg, const FeatureSelection& what,
                                   int64_t n_samples, int64_t shortest) {
  ExtractPlan p;
  p.need = needs_of(what, cfg);
  p.stft = stft_framing(cfg);
  p.zcr = zcr_framing(cfg);
  p.rms = rms_framing(cfg);
  const int64_t shortest_frames = frame_count(p.stft, shortest, "stft");
  if (p.need.deltas && cfg.delta.mode == "interp" && shortest_frames < cfg.delta.width) {
    throw InputError("delta: when mode='interp', width=" + std::to_string(cfg.delta.width) +
                     " cannot exceed the number of frames=" + std::to_string(shortest_frames) +
                     " (" + std::to_string(shortest) + " samples); deselect deltas and stats");
  }
  if (p.need.zcr) frame_count(p.zcr, shortest, "zcr");
  if (p.need.rms) frame_count(p.rms, shortest, "rms");
  p.frames = p.stft.frames(n_samples);
  p.zcr_frames = p.need.zcr ? p.zcr.frames(n_samples) : 0;
  p.rms_frames = p.need.rms ? p.rms.frames(n_samples) : 0;
  p.n_bins = cfg.stft.n_fft / 2 + 1;
  p.n_mels = cfg.mel.n_mels;
  p.n_mfcc = cfg.mfcc.n_mfcc;
  p.n_chroma = cfg.chroma.n_chroma;
  p.n_bands = cfg.contrast.n_bands + 1;
  p.stats_blocks = stats_layout(cfg);
  for (const StatsBlock& b : p.stats_blocks) p.n_stats += 2 * b.rows;
  auto set = [&](Output o, bool kept, int64_t rows, int64_t frames) {
    p.outputs[static_cast<size_t>(o)] = OutputShape{kept, rows, frames};
  };
  const int64_t T = p.frames;
  set(Output::stft_mag, what.stft_mag, p.n_bins, T);
  set(Output::melspectrogram, what.melspectrogram, p.n_mels, T);
  set(Output::log_mel, what.log_mel, p.n_mels, T);
  set(Output::mfcc, what.mfcc, p.n_mfcc, T);
  set(Output::mfcc_delta, what.deltas, p.n_mfcc, T);
  set(Output::mfcc_delta2, what.deltas, p.n_mfcc, T);
  set(Output::chroma_stft, what.chroma, p.n_chroma, T);
  set(Output::spectral_contrast, what.contrast, p.n_bands, T);
  set(Output::zcr, what.zcr, 1, p.zcr_frames);
  set(Output::rms, what.rms, 1, p.rms_frames);
  set(Output::stats, what.stats, 1, p.n_stats);
  return p;
}

}  // namespace hptrain::features
