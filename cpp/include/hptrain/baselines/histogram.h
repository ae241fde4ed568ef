// Random-forest split search on quantised features: quantile bin edges (<= 256 bins), impurity
// (Gini, entropy) and the best threshold from a feature's class histogram, written once (HP_HD).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#ifndef HP_HD
#ifdef __CUDACC__
#define HP_HD __host__ __device__
#else
#define HP_HD
#endif
#endif

namespace hptrain::baselines {

enum class Criterion { gini, entropy };

// Impurity of weighted class counts (sum `total` > 0): Gini 1 - sum p^2, entropy -sum p log2 p
// (scikit-learn's definitions).
HP_HD inline double impurity(Criterion c, const double* counts, int n_classes, double total) {
  double r = c == Criterion::gini ? 1.0 : 0.0;
  for (int k = 0; k < n_classes; ++k) {
    const double p = counts[k] / total;
    if (c == Criterion::gini) {
      r -= p * p;
    } else if (p > 0) {
      r -= p * std::log2(p);
    }
  }
  return r;
}

// The best split found so far at a node: left = rows whose bin of `feature` is <= `bin`;
// `next_bin` is the lowest non-empty bin on the right.
struct SplitCandidate {
  int feature = -1;
  int bin = -1;
  int next_bin = -1;
  double proxy = -std::numeric_limits<double>::infinity();  // -(wL impL + wR impR)
  double w_left = 0, w_right = 0, imp_left = 0, imp_right = 0;
  int64_t n_left = 0;
};

// Scans the non-empty bins `bins[0..n_visit)` (increasing) of one feature's histogram:
// hist [n_bins, n_classes] weighted class counts, cnt [n_bins] sample counts; the node holds
// `node` [n_classes] weights (sum node_w) over node_n samples. A threshold is valid when both
// sides keep >= min_leaf samples; `best` is replaced only by a strictly better proxy, so ties
// go to the feature visited first and the lowest bin. `left` is [2 * n_classes] scratch.
HP_HD inline void best_bin_split(Criterion c, const double* hist, const int64_t* cnt,
                                 const int* bins, int n_visit, int n_classes, const double* node,
                                 double node_w, int64_t node_n, int64_t min_leaf, int feature,
                                 double* left, SplitCandidate& best) {
  for (int k = 0; k < n_classes; ++k) left[k] = 0;
  double w_left = 0;
  int64_t n_left = 0;
  // The last non-empty bin cannot be a threshold: its right side would be empty.
  for (int t = 0; t + 1 < n_visit; ++t) {
    const int b = bins[t];
    for (int k = 0; k < n_classes; ++k) left[k] += hist[b * n_classes + k];
    n_left += cnt[b];
    w_left = 0;
    for (int k = 0; k < n_classes; ++k) w_left += left[k];
    const int64_t n_right = node_n - n_left;
    if (n_left < min_leaf || n_right < min_leaf) continue;
    const double w_right = node_w - w_left;
    if (w_left <= 0 || w_right <= 0) continue;
    double* right = left + n_classes;
    for (int k = 0; k < n_classes; ++k) right[k] = node[k] - left[k];
    const double imp_l = impurity(c, left, n_classes, w_left);
    const double right_imp = impurity(c, right, n_classes, w_right);
    const double proxy = -(w_left * imp_l + w_right * right_imp);
    if (proxy > best.proxy) {
      best.feature = feature;
      best.bin = b;
      best.next_bin = bins[t + 1];
      best.proxy = proxy;
      best.w_left = w_left;
      best.w_right = w_right;
      best.imp_left = imp_l;
      best.imp_right = right_imp;
      best.n_left = n_left;
    }
  }
}

// Per-feature bin edges fitted on training data: <= n_bins - 1 increasing thresholds; a value
// x falls in bin i, the first with x <= edges[i] (the last bin when none). Midpoints between
// distinct values when a feature has <= n_bins of them, else quantiles (as histogram GBDTs and
// GPU forests do). At most 200,000 evenly strided rows are used.
std::vector<std::vector<float>> fit_bin_edges(const float* X, int64_t n, int64_t d, int n_bins);

// Bins of X [n, d] into out [d, n] (feature-major, what the histogram builder scans).
void quantise(const std::vector<std::vector<float>>& edges, const float* X, int64_t n, int64_t d,
              uint8_t* out);

// Smallest and largest training value of each bin of one feature (+inf / -inf when empty).
struct BinRange {
  std::vector<float> lo, hi;
};
std::vector<BinRange> bin_ranges(const std::vector<std::vector<float>>& edges, const float* X,
                                 int64_t n, int64_t d, const uint8_t* binned);

// Threshold of a split between non-empty bins `bin` (left) and `next_bin` (right): midway
// between the largest value on the left and the smallest on the right, as scikit-learn's exact
// splitter places it between neighbouring values of the node (equal to it for features with
// at most n_bins distinct values). Left values are <= it, right values are above it.
float split_threshold(const BinRange& r, int bin, int next_bin);

}  // namespace hptrain::baselines
