// The CPU plan of a config (tables built once, shared by threads) and its cache.
#include "contrast_kernels.h"
#include "cpu_plan.h"
#include "spectral_kernels.h"
#include "tuning_kernels.h"

#include <map>
#include <mutex>
#include <sstream>

#include "hptrain/features/filters.h"

namespace hptrain::features::detail {

Plan::Plan(const FeatureConfig& c)
    : cfg(c),
      stft(c.stft),
      mel_fb(mel_filter_bank(c.mel, c.sr, c.stft.n_fft), c.mel.n_mels, c.stft.n_fft / 2 + 1),
      dct(dct_matrix(c.mfcc, c.mel.n_mels)),
      savgol{savgol_weights(c.delta.width, 1, 1), savgol_weights(c.delta.width, 2, 2)},
      delta_mode(parse_delta_mode(c.delta.mode)),
      rms_pad_mode(parse_pad_mode(c.rms.pad_mode)),
      bands(contrast_bands(c.contrast, c.sr, c.stft.n_fft)),
      pip(piptrack_range(c.sr, c.stft.n_fft)) {}

const FeatureTables& Plan::tables() const {
  std::call_once(tables_once_, [this] {
    FeatureTables& t = tables_;
    t.window = stft.window;
    t.mel_fb = mel_filter_bank(cfg.mel, cfg.sr, cfg.stft.n_fft);
    t.dct = dct;
    t.savgol[0] = savgol[0];
    t.savgol[1] = savgol[1];
    t.bands = bands;
    t.pip_lo = pip.lo;
    t.pip_hi = pip.hi;
    if (cfg.chroma.tuning) {
      t.chroma_fixed = *chroma_fb(*cfg.chroma.tuning);
    } else {
      for (int i = 0; i < kTuningBanks; ++i) {
        const auto bank = chroma_fb(i < tuning::kBins ? tuning::edge(i) : 0.0);
        t.chroma_banks.insert(t.chroma_banks.end(), bank->begin(), bank->end());
      }
    }
  });
  return tables_;
}

std::shared_ptr<const std::vector<float>> Plan::chroma_fb(double tuning) const {
  std::lock_guard<std::mutex> lock(chroma_mutex_);
  auto& slot = chroma_cache_[tuning];
  if (!slot) {
    slot = std::make_shared<const std::vector<float>>(
        chroma_filter_bank(cfg.chroma, cfg.sr, cfg.stft.n_fft, tuning));
  }
  return slot;
}

std::shared_ptr<const Plan> plan_for(const FeatureConfig& cfg) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Plan>> cache;
  std::ostringstream key;
  key.precision(17);
  key << cfg;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key.str());
  if (it != cache.end()) return it->second;
  if (cache.size() >= 16) cache.clear();
  auto plan = std::make_shared<const Plan>(cfg);
  cache.emplace(key.str(), plan);
  return plan;
}

}  // namespace hptrain::features::detail
