// The CPU plan of a config (tables built once, shared by threads) and its cache.
#include "kernels.h"

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
      pip(piptrack_range(c.sr, c.stft.n_fft)) {
  tables.window = stft.window;
  tables.mel_fb = mel_filter_bank(c.mel, c.sr, c.stft.n_fft);
  tables.dct = dct;
  tables.savgol[0] = savgol[0];
  tables.savgol[1] = savgol[1];
  tables.band_first = bands.first;
  tables.band_count = bands.count;
  tables.band_q = bands.q;
  tables.pip_lo = pip.lo;
  tables.pip_hi = pip.hi;
  tables.chroma_fb = [this](double tuning) { return chroma_fb(tuning); };
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
