// What the demo corpus and its open-set voices both do to a voice pack's line: trim its silent
// ends, and leave it out when too little is left.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace hptrain::data::voice_lines {

// Voice lines shorter than this after trimming are left out.
constexpr double kMinLine_s = 0.3;
// Trimming: samples this far below the clip's peak are silence at its ends.
constexpr double kTrim_db = -40;

inline std::vector<float> trim(const std::vector<float>& x) {
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::abs(v));
  const float thr = peak * static_cast<float>(std::pow(10.0, kTrim_db / 20));
  size_t a = 0, b = x.size();
  while (a < b && std::abs(x[a]) <= thr) ++a;
  while (b > a && std::abs(x[b - 1]) <= thr) --b;
  return {x.begin() + static_cast<std::ptrdiff_t>(a), x.begin() + static_cast<std::ptrdiff_t>(b)};
}

}  // namespace hptrain::data::voice_lines
