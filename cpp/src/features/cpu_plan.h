// The CPU plan of a FeatureConfig (private to hp_features; plan.cpp): every stage's tables built
// once and shared by the threads, cached per config.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "contrast_kernels.h"
#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/tables.h"
#include "spectral_kernels.h"
#include "stft_kernels.h"
#include "tuning_kernels.h"

namespace hptrain::features::detail {

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
