// Energy and spectral speech activity detection with hysteresis and hangover (vad.h).
#include "hptrain/diarization/vad.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "hptrain/error.h"

namespace hptrain::diarization {

namespace {
constexpr double kFrameS = 0.01;

// hangover, then drop short bursts, then fill short pauses
std::vector<uint8_t> smooth(std::vector<uint8_t> sp, const VadConfig& cfg) {
  const size_t T = sp.size();
  const auto hang = static_cast<size_t>(std::lround(cfg.hangover_s / kFrameS));
  for (size_t t = 0, last = SIZE_MAX; t < T; ++t) {
    if (sp[t]) {
      last = t;
    } else if (last != SIZE_MAX && t - last <= hang) {
      sp[t] = 2;  // hangover (kept apart so it does not extend itself)
    }
  }
  for (auto& v : sp) v = v ? 1 : 0;
  const auto runs = [&](uint8_t value, size_t max_len, uint8_t to) {
    for (size_t t = 0; t < T;) {
      if (sp[t] != value) {
        ++t;
        continue;
      }
      size_t e = t;
      while (e < T && sp[e] == value) ++e;
      const bool inner = t > 0 && e < T;  // pauses at the file's edges are not filled
      if (e - t < max_len && (value == 1 || inner))
        std::fill(sp.begin() + static_cast<std::ptrdiff_t>(t),
                  sp.begin() + static_cast<std::ptrdiff_t>(e), to);
      t = e;
    }
  };
  runs(1, static_cast<size_t>(std::lround(cfg.min_speech_s / kFrameS)), 0);
  runs(0, static_cast<size_t>(std::lround(cfg.min_gap_s / kFrameS)), 1);
  return sp;
}

}  // namespace

void VadConfig::validate() const {
  if (!(on_db >= off_db && off_db >= 0)) throw ConfigError("vad: must be on_db >= off_db >= 0");
  if (!(floor_window_s > 0)) throw ConfigError("vad.floor_window_s: must be > 0");
  if (!(prob_on >= prob_off && prob_off >= 0 && prob_on <= 1)) {
    throw ConfigError("vad: must be 1 >= prob_on >= prob_off >= 0");
  }
  if (hangover_s < 0 || min_speech_s < 0 || min_gap_s < 0) {
    throw ConfigError("vad: hangover_s, min_speech_s and min_gap_s must be >= 0");
  }
}

std::vector<uint8_t> detect_speech(const std::vector<float>& energy_db,
                                   const std::vector<float>& band_share,
                                   const std::vector<float>& flatness, const VadConfig& cfg) {
  cfg.validate();
  const size_t T = energy_db.size();
  std::vector<uint8_t> sp(T, 0);
  if (T == 0) return sp;
  // energy smoothed over 50 ms, its running minimum over the floor window (monotonic deque)
  std::vector<float> sm(T);
  {
    const size_t h = 2;
    double acc = 0;
    size_t lo = 0, hi = 0;
    for (size_t t = 0; t < T; ++t) {
      while (hi < T && hi <= t + h) acc += energy_db[hi++];
      while (lo + h < t) acc -= energy_db[lo++];
      sm[t] = static_cast<float>(acc / static_cast<double>(hi - lo));
    }
  }
  const float loudest = *std::max_element(sm.begin(), sm.end());
  const auto half = static_cast<size_t>(cfg.floor_window_s / kFrameS / 2);
  std::vector<float> floor(T);
  std::deque<size_t> dq;
  size_t hi = 0;
  for (size_t t = 0; t < T; ++t) {
    while (hi < T && hi <= t + half) {
      while (!dq.empty() && sm[dq.back()] >= sm[hi]) dq.pop_back();
      dq.push_back(hi++);
    }
    while (dq.front() + half < t) dq.pop_front();
    floor[t] = sm[dq.front()];
  }
  bool on = false;
  for (size_t t = 0; t < T; ++t) {
    const double over = energy_db[t] - floor[t];
    const bool loud = energy_db[t] > loudest - cfg.range_db;
    if (!on) {
      on = loud && over >= cfg.on_db && band_share[t] >= cfg.min_band_share &&
           flatness[t] <= cfg.max_flatness;
    } else {
      on = loud && over >= cfg.off_db;
    }
    sp[t] = on ? 1 : 0;
  }
  return smooth(std::move(sp), cfg);
}

std::vector<uint8_t> speech_from_probabilities(const std::vector<float>& prob,
                                               const VadConfig& cfg) {
  cfg.validate();
  std::vector<uint8_t> sp(prob.size(), 0);
  bool on = false;
  for (size_t t = 0; t < prob.size(); ++t) {
    on = on ? prob[t] >= cfg.prob_off : prob[t] >= cfg.prob_on;
    sp[t] = on ? 1 : 0;
  }
  return smooth(std::move(sp), cfg);
}

}  // namespace hptrain::diarization
