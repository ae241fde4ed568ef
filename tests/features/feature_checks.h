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

// Tolerances about ten times the errors reached against librosa 0.11 (printed by close_scaled;
// largest over the four reference clips, the per-stage checks and the features CLI in brackets).
// The STFT is float64 like librosa's, so what remains is float32 rounding and summation order.
inline constexpr double kStftRel = 2e-6;  // |STFT|, of the frame's largest magnitude [1.7e-7]
inline constexpr double kMelRel = 3e-6;   // mel power, of the frame's largest value [2.6e-7]
// dB values: float32 spacing is 3.8e-6 to 7.6e-6 between 32 and 128 dB [log-mel 1.1e-5]
inline constexpr double kLogMelDb = 1e-4;    // log-mel, dB
inline constexpr double kMfccRel = 2e-5;     // MFCC, of the row's largest |coefficient| [1.6e-6]
inline constexpr double kDeltaRel = 2e-5;    // deltas are linear in the MFCC: same rule [1.5e-6]
inline constexpr double kChromaAbs = 3e-6;   // chroma is normalised to a maximum of 1 [3.0e-7]
inline constexpr double kRmsAbs = 1e-6;      // RMS, absolute (the clips peak at 0.76) [3.0e-8]
inline constexpr double kContrastDb = 1e-4;  // spectral contrast, dB [7.6e-6, as log-mel]
// Both banks are float64 arithmetic rounded to float32, as librosa builds them.
inline constexpr double kFilterBankRel = 1e-6;
// Tunings are histogram bins 0.01 apart: the same bin means equal up to float64 rounding.
inline constexpr double kTuning = 1e-9;

enum class Scale { kAbsolute, kFrameMax, kItemMax, kRowMax };

// |got - ref| <= tol * scale for [rows, frames] arrays; scale = 1, the largest |ref| of the
// value's frame (column), the largest |ref| overall, or the largest |ref| of the value's row
// (an MFCC coefficient: c0 runs to hundreds where c12 stays near ten).
inline ::testing::AssertionResult close_scaled(const std::string& what, const float* got,
                                               const float* ref, int64_t rows, int64_t frames,
                                               double tol, Scale scale) {
  std::vector<double> s(static_cast<size_t>(frames), 1.0);
  std::vector<double> row_max(static_cast<size_t>(rows), 0.0);
  if (scale == Scale::kRowMax) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t t = 0; t < frames; ++t)
        row_max[r] = std::max(row_max[r], std::fabs(double(ref[r * frames + t])));
    }
  } else if (scale != Scale::kAbsolute) {
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
      const double sc = scale == Scale::kRowMax ? row_max[r] : s[t];
      const double err = std::fabs(g - w) / (sc > 0 ? sc : 1.0);
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
