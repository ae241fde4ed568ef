// Pooled statistics on the CPU (twin of cuda/src/stats.cu): mean and population std of each row.
#include "kernels.h"
#include "stats_kernels.h"

#include <cmath>

#include "hptrain/features/stats.h"

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

namespace {

// sum of f(v[t]) in float64, in 4 lanes so that it vectorises
template <class F>
double lane_sum(const float* v, int64_t n, F f) {
  detail::LaneSum sum;
  sum.add(v, n, f);
  return sum.total();
}

}  // namespace

void row_stats(const float* x, int64_t rows, int64_t frames, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = x + r * frames;
    const double mean = lane_sum(v, frames, [](double a) { return a; }) / frames;
    const double ss = lane_sum(v, frames, [mean](double a) { return (a - mean) * (a - mean); });
    out[2 * r] = static_cast<float>(mean);
    out[2 * r + 1] = static_cast<float>(std::sqrt(ss / frames));
  }
}

}  // namespace hptrain::features
