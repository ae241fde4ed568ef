// The feature stage's dispatch point: the GPU twins (cuda/) when a device is usable, else the CPU
// path, one shared STFT per item with every feature derived from it.
#include "hptrain/features/extract.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "contrast_kernels.h"
#include "cpu_plan.h"
#include "hptrain/device.h"
#include "hptrain/error.h"
#include "hptrain/features/cpu.h"
#include "hptrain/features/plan.h"
#include "hptrain/features/tables.h"
#include "hptrain/parallel.h"
#include "kernels.h"
#include "signal_kernels.h"
#include "spectral_kernels.h"
#include "stft_kernels.h"
#include "tuning_kernels.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/extract.h"
#endif

namespace hptrain::features {

namespace detail {
// extract() on the CPU, whatever devices there are (the streamed `features` path).
void extract_cpu(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                 const FeatureSelection& what, FeatureSet& fs);
}  // namespace detail

namespace {

// out's item i when that output is kept, else the thread's scratch buffer.
float* target(bool keep, Tensor3& out, int64_t i, std::vector<float>& scratch, int64_t size) {
  return keep ? out.item(i) : detail::Workspace::get(scratch, static_cast<size_t>(size));
}

// Frames per range of an item split across threads: a multiple of kFftBlock and of the dense
// products' 8, and long enough that a range outweighs starting its thread.
constexpr int64_t kFrameBlock = 64;
constexpr int64_t kMinRangeFrames = 256;

// cpu_frame_ranges: 1 when the batch fills the threads, when the item is short, or when a selected
// output needs more than frame-local stages (deltas, chroma's tuning, contrast, ZCR, RMS, stats:
// the item loop computes those).
int64_t frame_ranges(const ExtractPlan& x, int64_t batch, int threads) {
  const FeatureNeeds& n = x.need;
  const bool local = !(n.deltas || n.chroma || n.contrast || n.zcr || n.rms || n.stats);
  if (!local || batch >= threads) return 1;
  return std::clamp<int64_t>(x.frames / kMinRangeFrames, 1, threads);
}

// One item's STFT-derived arrays, each [rows, T] (null when not needed): the item's output
// where kept, else the workspace's.
struct Spectra {
  float *power, *mag, *spec, *mel, *log_mel, *mfcc;
};

Spectra spectra_of(const ExtractPlan& x, const FeatureConfig& cfg, const FeatureSelection& what,
                   FeatureSet& fs, int64_t i, detail::Workspace& ws) {
  const FeatureNeeds& need = x.need;
  const int64_t T = x.frames, F = x.n_bins;
  Spectra s{};
  s.power = need.power ? detail::Workspace::get(ws.power, F * T) : nullptr;
  s.mag = need.mag ? target(what.stft_mag, fs.stft_mag, i, ws.mag, F * T) : nullptr;
  if (need.mel && cfg.mel.power != 2.0 && cfg.mel.power != 1.0) {
    s.spec = detail::Workspace::get(ws.spec, F * T);
  }
  const int64_t M = x.n_mels * T;
  s.mel = need.mel ? target(what.melspectrogram, fs.melspectrogram, i, ws.mel, M) : nullptr;
  s.log_mel = need.log_mel ? target(what.log_mel, fs.log_mel, i, ws.log_mel, M) : nullptr;
  s.mfcc = need.mfcc ? target(what.mfcc, fs.mfcc, i, ws.mfcc, x.n_mfcc * T) : nullptr;
  return s;
}

// Frames [t0, t1) of the STFT, the mel spectrogram and log-mel before its top_db floor; returns
// the largest dB value among them (-inf without log-mel).
float spectra_frames(const FeatureConfig& cfg, const detail::Plan& p, const ExtractPlan& x,
                     const float* y, int64_t n_samples, const Spectra& s, int64_t t0, int64_t t1,
                     detail::Workspace& ws) {
  const FeatureNeeds& need = x.need;
  const int64_t T = x.frames;
  float top = -std::numeric_limits<float>::infinity();
  if (need.power || need.mag)
    detail::stft_frames(p.stft, y, n_samples, T, t0, t1, ws, s.power, s.mag);
  if (!need.mel) return top;
  // ref: librosa/feature/spectral.py melspectrogram: mel_basis @ |D|**power
  const float* spec = cfg.mel.power == 2.0 ? s.power : s.mag;
  if (s.spec != nullptr) {
    for (int64_t k = 0; k < x.n_bins; ++k) {
      for (int64_t t = t0; t < t1; ++t) {
        s.spec[k * T + t] = std::pow(s.mag[k * T + t], static_cast<float>(cfg.mel.power));
      }
    }
    spec = s.spec;
  }
  detail::bank_product_frames(p.mel_fb, spec, T, t0, t1, s.mel);
  if (!need.log_mel) return top;
  for (int m = 0; m < x.n_mels; ++m) {
    float* row = s.log_mel + m * T + t0;
    detail::power_to_db_unfloored(cfg.db, s.mel + m * T + t0, t1 - t0, row);
    top = std::max(top, detail::max_value(row, t1 - t0));
  }
  return top;
}

// Frames [t0, t1) of log-mel floored at `top` (the item's largest dB value) - top_db, then the
// MFCC from them.
void finish_spectra(const FeatureConfig& cfg, const detail::Plan& p, const ExtractPlan& x,
                    const Spectra& s, int64_t t0, int64_t t1, float top) {
  const int64_t T = x.frames;
  if (!x.need.log_mel) return;
  if (cfg.db.top_db) {
    const float floor = detail::db_floor(top, *cfg.db.top_db);
    for (int m = 0; m < x.n_mels; ++m) detail::floor_at(s.log_mel + m * T + t0, t1 - t0, floor);
  }
  if (x.need.mfcc) {
    detail::dense_product_frames(p.dct.data(), x.n_mfcc, x.n_mels, s.log_mel, T, t0, t1, s.mfcc);
  }
}

// One item by frame ranges on `parts` threads: spectra_frames of each range, then
// finish_spectra with the item's maximum. Every frame goes through the arithmetic of the item
// loop, so the values are the same bit for bit.
void extract_frames(const FeatureConfig& cfg, const detail::Plan& p, const ExtractPlan& x,
                    const FeatureSelection& what, const float* y, int64_t n_samples, int64_t i,
                    int64_t parts, FeatureSet& fs) {
  const Spectra s = spectra_of(x, cfg, what, fs, i, detail::thread_workspace());
  const int64_t T = x.frames, blocks = (T + kFrameBlock - 1) / kFrameBlock;
  const auto range = [&](int64_t r) {
    return std::pair<int64_t, int64_t>{blocks * r / parts * kFrameBlock,
                                       std::min(T, blocks * (r + 1) / parts * kFrameBlock)};
  };
  std::vector<float> top(static_cast<size_t>(parts));
  parallel_for(parts, static_cast<int>(parts), [&](int64_t r) {
    const auto [t0, t1] = range(r);
    top[static_cast<size_t>(r)] =
        spectra_frames(cfg, p, x, y, n_samples, s, t0, t1, detail::thread_workspace());
  });
  const float item_top = *std::max_element(top.begin(), top.end());
  parallel_for(parts, static_cast<int>(parts), [&](int64_t r) {
    const auto [t0, t1] = range(r);
    finish_spectra(cfg, p, x, s, t0, t1, item_top);
  });
}

}  // namespace

void detail::extract_cpu(const FeatureConfig& cfg, const float* audio, int64_t batch,
                         int64_t n_samples, const FeatureSelection& what, FeatureSet& fs) {
  const auto plan = detail::plan_for(cfg);
  const detail::Plan& p = *plan;
  const ExtractPlan x = plan_extraction(cfg, what, n_samples, n_samples);
  const FeatureNeeds& need = x.need;
  const int64_t T = x.frames, F = x.n_bins, Tz = x.zcr_frames, Tr = x.rms_frames;
  const int n_mfcc = x.n_mfcc, n_chroma = x.n_chroma;
  const int n_bands = x.n_bands;
  // a kept output reuses its memory when the size is unchanged (no zero-fill either: every
  // value is written below); an unselected one is emptied
  auto alloc = [&](Output o, Tensor3& t) {
    const OutputShape& shape = x.shape(o);
    if (!shape.kept) {
      t = Tensor3();
      return;
    }
    t.batch = batch;
    t.rows = shape.rows;
    t.frames = shape.frames;
    t.data.resize(static_cast<size_t>(batch * shape.rows * shape.frames));
  };
  alloc(Output::stft_mag, fs.stft_mag);
  alloc(Output::melspectrogram, fs.melspectrogram);
  alloc(Output::log_mel, fs.log_mel);
  alloc(Output::mfcc, fs.mfcc);
  alloc(Output::mfcc_delta, fs.mfcc_delta);
  alloc(Output::mfcc_delta2, fs.mfcc_delta2);
  alloc(Output::chroma_stft, fs.chroma_stft);
  alloc(Output::spectral_contrast, fs.spectral_contrast);
  alloc(Output::zcr, fs.zcr);
  alloc(Output::rms, fs.rms);
  alloc(Output::stats, fs.stats);
  fs.tuning.assign(need.chroma ? static_cast<size_t>(batch) : 0, 0.0);

  if (const int64_t parts = frame_ranges(x, batch, resolve_threads(cfg.threads)); parts > 1) {
    for (int64_t i = 0; i < batch; ++i) {
      extract_frames(cfg, p, x, what, audio + i * n_samples, n_samples, i, parts, fs);
    }
    return;
  }
  detail::for_items(batch, cfg.threads, [&](int64_t i, detail::Workspace& ws) {
    const float* y = audio + i * n_samples;
    const Spectra s = spectra_of(x, cfg, what, fs, i, ws);
    finish_spectra(cfg, p, x, s, 0, T, spectra_frames(cfg, p, x, y, n_samples, s, 0, T, ws));
    const float* power = s.power;
    const float* mag = s.mag;
    const float* mfcc = s.mfcc;
    float* d1 = nullptr;
    float* d2 = nullptr;
    if (need.deltas) {
      d1 = target(what.deltas, fs.mfcc_delta, i, ws.d1, n_mfcc * T);
      d2 = target(what.deltas, fs.mfcc_delta2, i, ws.d2, n_mfcc * T);
      detail::delta_item(p.savgol[0], cfg.delta.width, p.delta_mode, mfcc, n_mfcc, T, ws, d1);
      detail::delta_item(p.savgol[1], cfg.delta.width, p.delta_mode, mfcc, n_mfcc, T, ws, d2);
    }
    float* chroma = nullptr;
    if (need.chroma) {
      // ref: librosa/feature/spectral.py chroma_stft: tuning from estimate_tuning(S=|D|**2)
      const double tuning =
          cfg.chroma.tuning ? *cfg.chroma.tuning
                            : detail::estimate_tuning_item(power, static_cast<int>(F), T, cfg.sr,
                                                           p.stft.n_fft, p.pip, n_chroma, ws);
      fs.tuning[i] = tuning;
      chroma = target(what.chroma, fs.chroma_stft, i, ws.chroma, n_chroma * T);
      detail::dense_product(p.chroma_fb(tuning)->data(), n_chroma, static_cast<int>(F), power, T,
                            chroma);
      detail::normalize_columns(cfg.chroma.norm, chroma, n_chroma, T);
    }
    float* contrast = nullptr;
    if (need.contrast) {
      contrast = target(what.contrast, fs.spectral_contrast, i, ws.contrast, n_bands * T);
      detail::contrast_item(cfg.contrast, p.bands, mag, T, ws, contrast);
    }
    float* zcr = nullptr;
    if (need.zcr) {
      zcr = target(what.zcr, fs.zcr, i, ws.zcr, Tz);
      detail::zcr_item(cfg.zcr, y, n_samples, Tz, ws, zcr);
    }
    float* rms = nullptr;
    if (need.rms) {
      rms = target(what.rms, fs.rms, i, ws.rms, Tr);
      detail::rms_item(cfg.rms, p.rms_pad_mode, y, n_samples, Tr, ws, rms);
    }
    if (need.stats) {
      float* o = fs.stats.item(i);
      std::array<const float*, static_cast<size_t>(Output::count)> pooled{};
      pooled[static_cast<size_t>(Output::mfcc)] = mfcc;
      pooled[static_cast<size_t>(Output::mfcc_delta)] = d1;
      pooled[static_cast<size_t>(Output::mfcc_delta2)] = d2;
      pooled[static_cast<size_t>(Output::chroma_stft)] = chroma;
      pooled[static_cast<size_t>(Output::spectral_contrast)] = contrast;
      pooled[static_cast<size_t>(Output::zcr)] = zcr;
      pooled[static_cast<size_t>(Output::rms)] = rms;
      for (const StatsBlock& b : x.stats_blocks) {
        row_stats(pooled[static_cast<size_t>(b.source)], b.rows, x.frames_of(b), o);
        o += 2 * b.rows;
      }
    }
  });
}

void extract(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
             const FeatureSelection& what, FeatureSet& out) {
  cfg.validate();
  if (batch < 0) throw InputError("extract: batch = " + std::to_string(batch) + ": must be >= 0");
#ifdef HP_WITH_CUDA
  // The GPU twins (cuda/, held to the CPU path by tests/cuda) when a device is usable.
  if (batch > 0 && gpu_available()) {
    out = cuda::extract(cfg, feature_tables(cfg), audio, batch, n_samples, what);
    return;
  }
#endif
  detail::extract_cpu(cfg, audio, batch, n_samples, what, out);
}

FeatureSet extract(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                   const FeatureSelection& what) {
  FeatureSet fs;
  extract(cfg, audio, batch, n_samples, what, fs);
  return fs;
}

std::vector<std::string> stats_columns(const FeatureConfig& cfg) {
  std::vector<std::string> cols;
  for (const StatsBlock& b : stats_layout(cfg)) {
    for (int r = 0; r < b.rows; ++r) {
      char idx[16];
      std::snprintf(idx, sizeof idx, "_%02d_", r);
      cols.push_back(b.name + std::string(idx) + "mean");
      cols.push_back(b.name + std::string(idx) + "std");
    }
  }
  return cols;
}

int64_t cpu_frame_ranges(const FeatureConfig& cfg, const FeatureSelection& what, int64_t batch,
                         int64_t n_samples) {
  cfg.validate();
  return frame_ranges(plan_extraction(cfg, what, n_samples, n_samples), batch,
                      resolve_threads(cfg.threads));
}

int64_t n_frames(const FeatureConfig& cfg, int64_t n_samples) {
  return frame_count(stft_framing(cfg), n_samples, "stft");
}

}  // namespace hptrain::features
