// Checks shared by the feature tests: errors relative to each frame's (or the whole item's)
// largest reference value, with the largest error printed so that reached tolerances show.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace hptrain::test {

// Tolerances of the issue, reached with a wide margin (the measured errors are printed by
// close_scaled and listed in README, "Features"). The STFT is float64 like librosa's, so the
// remaining differences are float32 rounding and summation order.
inline constexpr double kStftRel = 1e-4;     // |STFT|, of the frame's largest magnitude
inline constexpr double kMelRel = 1e-4;      // mel power, of the frame's largest mel value
inline constexpr double kLogMelDb = 0.01;    // log-mel, dB
inline constexpr double kMfccRel = 1e-3;     // MFCC, of the clip's largest |coefficient|
inline constexpr double kDeltaRel = 1e-3;    // deltas are linear in the MFCC: the same rule
inline constexpr double kChromaAbs = 1e-4;   // chroma is normalised to a maximum of 1 per frame
inline constexpr double kRmsAbs = 1e-4;      // RMS, absolute (the clips peak at 0.76)
inline constexpr double kContrastDb = 0.01;  // spectral contrast, dB
// Both banks are float64 arithmetic rounded to float32, as librosa builds them.
inline constexpr double kFilterBankRel = 1e-6;
// Tunings are histogram bins 0.01 apart: the same bin means equal up to float64 rounding.
inline constexpr double kTuning = 1e-9;

enum class Scale { kAbsolute, kFrameMax, kItemMax };

// |got - ref| <= tol * scale for [rows, frames] arrays; scale = 1, the largest |ref| of the
// value's frame (column), or the largest |ref| overall.
inline ::testing::AssertionResult close_scaled(const std::string& what, const float* got,
                                               const float* ref, int64_t rows, int64_t frames,
                                               double tol, Scale scale) {
  std::vector<double> s(static_cast<size_t>(frames), 1.0);
  if (scale != Scale::kAbsolute) {
    double all = 0;
    std::fill(s.begin(), s.end(), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t t = 0; t < frames; ++t)
        s[t] = std::max(s[t], std::fabs(double(ref[r * frames + t])));
    }
    for (double v : s) all = std::max(all, v);
    if (scale == Scale::kItemMax) std::fill(s.begin(), s.end(), all);
  }
  double worst = 0;  // largest error / scale
  int64_t bad = 0;
  std::ostringstream first;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t < frames; ++t) {
      const double g = got[r * frames + t], w = ref[r * frames + t];
      const double err = std::fabs(g - w) / (s[t] > 0 ? s[t] : 1.0);
      if (!(err <= tol)) {
        if (bad < 5) first << "\n  [" << r << ", " << t << "] got " << g << ", want " << w;
        ++bad;
      }
      if (err > worst || std::isnan(err)) worst = err;
    }
  }
  std::printf("[ parity   ] %-40s max error %.3g (tolerance %.3g)\n", what.c_str(), worst, tol);
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << rows * frames << " values off by more than " << tol
         << "; max error " << worst << first.str();
}

}  // namespace hptrain::test
