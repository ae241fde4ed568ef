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
int64_t frame_ranges(const FeatureConfig& cfg, const ExtractPlan& x, int64_t batch, int threads) {
  const FeatureNeeds& n = x.need;
  const bool local = !(n.deltas || n.chroma || n.contrast || n.zcr || n.rms || n.stats) &&
                     (!n.mel || cfg.mel.power == 2.0 || cfg.mel.power == 1.0);
  if (!local || batch >= threads) return 1;
  return std::clamp<int64_t>(x.frames / kMinRangeFrames, 1, threads);
}

// One item by frame ranges on `parts` threads: the STFT, the mel product and the dB values of
// each range, then the top_db floor from the item's maximum and the MFCC. Every frame goes
// through the arithmetic of the item loop, so the values are the same bit for bit.
void extract_frames(const FeatureConfig& cfg, const detail::Plan& p, const ExtractPlan& x,
                    const FeatureSelection& what, const float* y, int64_t n_samples, int64_t i,
                    int64_t parts, FeatureSet& fs) {
  const FeatureNeeds& need = x.need;
  const int64_t T = x.frames, F = x.n_bins;
  const int n_mels = x.n_mels, n_mfcc = x.n_mfcc;
  detail::Workspace& own = detail::thread_workspace();  // the item's intermediates
  float* power = need.power ? detail::Workspace::get(own.power, F * T) : nullptr;
  float* mag = need.mag ? target(what.stft_mag, fs.stft_mag, i, own.mag, F * T) : nullptr;
  float* mel =
      need.mel ? target(what.melspectrogram, fs.melspectrogram, i, own.mel, n_mels * T) : nullptr;
  float* lm = need.log_mel ? target(what.log_mel, fs.log_mel, i, own.log_mel, n_mels * T) : nullptr;
  float* mfcc = need.mfcc ? target(what.mfcc, fs.mfcc, i, own.mfcc, n_mfcc * T) : nullptr;
  const int64_t blocks = (T + kFrameBlock - 1) / kFrameBlock;
  const auto range = [&](int64_t r) {
    return std::pair<int64_t, int64_t>{blocks * r / parts * kFrameBlock,
                                       std::min(T, blocks * (r + 1) / parts * kFrameBlock)};
  };
  std::vector<float> top(static_cast<size_t>(parts), -std::numeric_limits<float>::infinity());
  parallel_for(parts, static_cast<int>(parts), [&](int64_t r) {
    const auto [t0, t1] = range(r);
    detail::stft_frames(p.stft, y, n_samples, T, t0, t1, detail::thread_workspace(), power, mag);
    if (!need.mel) return;
    detail::bank_product_frames(p.mel_fb, cfg.mel.power == 2.0 ? power : mag, T, t0, t1, mel);
    if (!need.log_mel) return;
    for (int m = 0; m < n_mels; ++m) {
      float* row = lm + m * T + t0;
      detail::power_to_db_unfloored(cfg.db, mel + m * T + t0, t1 - t0, row);
      top[static_cast<size_t>(r)] =
          std::max(top[static_cast<size_t>(r)], detail::max_value(row, t1 - t0));
    }
  });
  if (!need.log_mel || (!cfg.db.top_db && !need.mfcc)) return;
  const float floor =
      cfg.db.top_db ? detail::db_floor(*std::max_element(top.begin(), top.end()), *cfg.db.top_db)
                    : -std::numeric_limits<float>::infinity();
  parallel_for(parts, static_cast<int>(parts), [&](int64_t r) {
    const auto [t0, t1] = range(r);
    if (cfg.db.top_db) {
      for (int m = 0; m < n_mels; ++m) detail::floor_at(lm + m * T + t0, t1 - t0, floor);
    }
    if (need.mfcc) detail::dense_product_frames(p.dct.data(), n_mfcc, n_mels, lm, T, t0, t1, mfcc);
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
  const int n_mels = x.n_mels, n_mfcc = x.n_mfcc, n_chroma = x.n_chroma;
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

  if (const int64_t parts = frame_ranges(cfg, x, batch, resolve_threads(cfg.threads)); parts > 1) {
    for (int64_t i = 0; i < batch; ++i) {
      extract_frames(cfg, p, x, what, audio + i * n_samples, n_samples, i, parts, fs);
    }
    return;
  }
  detail::for_items(batch, cfg.threads, [&](int64_t i, detail::Workspace& ws) {
    const float* y = audio + i * n_samples;
    float* power = need.power ? detail::Workspace::get(ws.power, F * T) : nullptr;
    float* mag = need.mag ? target(what.stft_mag, fs.stft_mag, i, ws.mag, F * T) : nullptr;
    if (need.power || need.mag) detail::stft_item(p.stft, y, n_samples, T, ws, power, mag);
    float* mfcc = nullptr;
    float* d1 = nullptr;
    float* d2 = nullptr;
    if (need.mel) {
      // ref: librosa/feature/spectral.py melspectrogram: mel_basis @ |D|**power
      const float* s = cfg.mel.power == 2.0 ? power : mag;
      if (cfg.mel.power != 2.0 && cfg.mel.power != 1.0) {
        float* sp = detail::Workspace::get(ws.spec, F * T);
        for (int64_t j = 0; j < F * T; ++j)
          sp[j] = std::pow(mag[j], static_cast<float>(cfg.mel.power));
        s = sp;
      }
      float* mel = target(what.melspectrogram, fs.melspectrogram, i, ws.mel, n_mels * T);
      detail::bank_product(p.mel_fb, s, T, mel);
      if (need.log_mel) {
        float* lm = target(what.log_mel, fs.log_mel, i, ws.log_mel, n_mels * T);
        detail::power_to_db_item(cfg.db, mel, n_mels * T, lm);
        if (need.mfcc) {
          mfcc = target(what.mfcc, fs.mfcc, i, ws.mfcc, n_mfcc * T);
          detail::dense_product(p.dct.data(), n_mfcc, n_mels, lm, T, mfcc);
        }
      }
    }
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
  return frame_ranges(cfg, plan_extraction(cfg, what, n_samples, n_samples), batch,
                      resolve_threads(cfg.threads));
}

int64_t n_frames(const FeatureConfig& cfg, int64_t n_samples) {
  return frame_count(stft_framing(cfg), n_samples, "stft");
}

}  // namespace hptrain::features
