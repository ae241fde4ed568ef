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

#include "support/support.h"

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
  std::vector<double> s(static_cast<size_t>(rows * frames), 1.0);  // each value's scale
  if (scale == Scale::kRowMax) {
    for (int64_t r = 0; r < rows; ++r) {
      double m = 0;
      for (int64_t t = 0; t < frames; ++t) m = std::max(m, std::fabs(double(ref[r * frames + t])));
      std::fill_n(s.begin() + r * frames, frames, m);
    }
  } else if (scale != Scale::kAbsolute) {
    std::vector<double> col(static_cast<size_t>(frames), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t t = 0; t < frames; ++t)
        col[t] = std::max(col[t], std::fabs(double(ref[r * frames + t])));
    }
    if (scale == Scale::kItemMax) {
      const double all = col.empty() ? 0.0 : *std::max_element(col.begin(), col.end());
      std::fill(col.begin(), col.end(), all);
    }
    for (int64_t r = 0; r < rows; ++r) std::copy(col.begin(), col.end(), s.begin() + r * frames);
  }
  double worst = 0;  // largest error / scale
  ::testing::AssertionResult ok =
      all_close(what, got, ref, static_cast<size_t>(rows * frames), tol, 0.0, s.data(), &worst);
  std::printf("[ parity   ] %-40s max error %.3g (tolerance %.3g)\n", what.c_str(), worst, tol);
  return ok;
}

}  // namespace hptrain::test
