// Fixtures of the preprocess stage's tests: librosa.effects.trim transcribed, libebur128's
// measurement of an output, and a configuration that leaves the audio as decoded.
#pragma once

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "hptrain/preprocess/preprocess.h"

namespace hptrain::test {

// ref: librosa.effects.trim(y, top_db, frame_length, hop_length) in numpy terms: RMS of the
// frames of y zero-padded by frame_length//2 each side (feature.rms, center=True,
// pad_mode="constant"); amplitude_to_db(rms, ref=np.max) > -top_db; [first*hop,
// min(n, (last+1)*hop)).
inline std::pair<int64_t, int64_t> librosa_trim(const std::vector<float>& y, double top_db, int fl,
                                                int hop) {
  std::vector<double> padded(y.size() + 2 * static_cast<size_t>(fl / 2), 0.0);
  std::copy(y.begin(), y.end(), padded.begin() + fl / 2);
  const size_t frames = 1 + (padded.size() - static_cast<size_t>(fl)) / static_cast<size_t>(hop);
  std::vector<double> power(frames);
  for (size_t t = 0; t < frames; ++t) {
    double s = 0;
    for (int k = 0; k < fl; ++k) s += padded[t * hop + k] * padded[t * hop + k];
    power[t] = s / fl;
  }
  const double ref = *std::max_element(power.begin(), power.end());
  int64_t first = -1, last = -1;
  for (size_t t = 0; t < frames; ++t) {
    const double db =
        10 * std::log10(std::max(1e-10, power[t])) - 10 * std::log10(std::max(1e-10, ref));
    if (db > -top_db) {
      if (first < 0) first = static_cast<int64_t>(t);
      last = static_cast<int64_t>(t);
    }
  }
  return {first * hop, std::min<int64_t>(static_cast<int64_t>(y.size()), (last + 1) * hop)};
}

// Integrated loudness, true peak (both by libebur128, as the R128 reference) of a mono signal.
struct Measured {
  double lufs;
  double true_peak_db;
};
inline Measured measure(const std::vector<float>& x, int sr) {
  ebur128_state* st =
      ebur128_init(1, static_cast<unsigned long>(sr), EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
  ebur128_add_frames_float(st, x.data(), x.size());
  Measured m{};
  double tp = 0;
  ebur128_loudness_global(st, &m.lufs);
  ebur128_true_peak(st, 0, &tp);
  m.true_peak_db = 20 * std::log10(tp);
  ebur128_destroy(&st);
  return m;
}

inline std::vector<float> concat(std::initializer_list<std::vector<float>> parts) {
  std::vector<float> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline preprocess::PreprocessConfig no_processing() {
  preprocess::PreprocessConfig c;
  c.trim = false;
  c.normalize = "none";
  return c;
}

}  // namespace hptrain::test
