// Quantile bin edges and quantisation of the forest's features.
#include "hptrain/baselines/histogram.h"

#include <algorithm>
#include <limits>

namespace hptrain::baselines {

namespace {
constexpr int64_t kMaxBinningRows = 200000;  // as scikit-learn's HistGradientBoosting subsample

// A threshold between two distinct float values lo < hi such that lo <= t < hi.
float between(float lo, float hi) {
  const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
  return mid < hi ? mid : lo;
}
}  // namespace

std::vector<std::vector<float>> fit_bin_edges(const float* X, int64_t n, int64_t d, int n_bins) {
  const int64_t stride = (n + kMaxBinningRows - 1) / kMaxBinningRows;
  std::vector<std::vector<float>> edges(d);
  std::vector<float> vals;
  for (int64_t f = 0; f < d; ++f) {
    vals.clear();
    for (int64_t i = 0; i < n; i += stride) vals.push_back(X[i * d + f]);
    std::sort(vals.begin(), vals.end());
    std::vector<float> distinct(vals);
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    auto& e = edges[f];
    if (static_cast<int64_t>(distinct.size()) <= n_bins) {
      for (size_t i = 0; i + 1 < distinct.size(); ++i)
        e.push_back(between(distinct[i], distinct[i + 1]));
    } else {
      const int64_t m = static_cast<int64_t>(vals.size());
      for (int q = 1; q < n_bins; ++q) {
        const int64_t idx = std::max<int64_t>(1, q * m / n_bins);
        const float lo = vals[idx - 1], hi = vals[idx];
        // a quantile inside a run of equal values keeps the run in one bin
        const float t = lo < hi ? between(lo, hi) : lo;
        if (t < vals.back() && (e.empty() || t > e.back())) e.push_back(t);
      }
    }
  }
  return edges;
}

void quantise(const std::vector<std::vector<float>>& edges, const float* X, int64_t n, int64_t d,
              uint8_t* out) {
  for (int64_t f = 0; f < d; ++f) {
    const auto& e = edges[f];
    uint8_t* col = out + f * n;
    for (int64_t i = 0; i < n; ++i) {
      col[i] = static_cast<uint8_t>(std::lower_bound(e.begin(), e.end(), X[i * d + f]) - e.begin());
    }
  }
}

std::vector<BinRange> bin_ranges(const std::vector<std::vector<float>>& edges, const float* X,
                                 int64_t n, int64_t d, const uint8_t* binned) {
  std::vector<BinRange> r(d);
  for (int64_t f = 0; f < d; ++f) {
    const size_t n_bins = edges[f].size() + 1;
    r[f].lo.assign(n_bins, std::numeric_limits<float>::infinity());
    r[f].hi.assign(n_bins, -std::numeric_limits<float>::infinity());
    const uint8_t* col = binned + f * n;
    for (int64_t i = 0; i < n; ++i) {
      const float v = X[i * d + f];
      r[f].lo[col[i]] = std::min(r[f].lo[col[i]], v);
      r[f].hi[col[i]] = std::max(r[f].hi[col[i]], v);
    }
  }
  return r;
}

float split_threshold(const BinRange& r, int bin, int next_bin) {
  return between(r.hi[bin], r.lo[next_bin]);
}

}  // namespace hptrain::baselines
