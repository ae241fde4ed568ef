// Which intermediate results a feature selection needs (stats need every pooled feature), shared
// by the CPU dispatch (features::extract) and its GPU twin (cuda::FeatureExtractor).
#pragma once

#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"

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

}  // namespace hptrain::features
