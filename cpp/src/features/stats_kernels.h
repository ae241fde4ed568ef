// The float64 lane sums of row_stats (private to hp_features; stats.cpp), shared with the
// streamed `features` path, which sums a file window by window.
#pragma once

#include <cstdint>

namespace hptrain::features::detail {

// row_stats's float64 sum of f(v[t]) in 4 lanes (so that it vectorises), fed in pieces: the
// same sum as one piece when every piece but the last holds a multiple of 4 values.
struct LaneSum {
  double lanes[4] = {0, 0, 0, 0};
  template <class F>
  void add(const float* v, int64_t n, F f) {
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) {
      for (int j = 0; j < 4; ++j) lanes[j] += f(static_cast<double>(v[t + j]));
    }
    for (; t < n; ++t) lanes[0] += f(static_cast<double>(v[t]));
  }
  double total() const { return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]); }
};

}  // namespace hptrain::features::detail
