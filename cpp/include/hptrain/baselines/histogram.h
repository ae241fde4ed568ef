// Random-forest split search on quantised features: quantile bin edges (<= 256 bins), impurity
// (Gini, entropy) and the best threshold from a feature's class histogram, written once (HP_HD)
// for the CPU builder and the GPU one (cuda/src/forest.cu), which must agree bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "hptrain/hd.h"

namespace hptrain::baselines {

enum class Criterion { gini, entropy };

// Impurity of weighted class counts (sum `total` > 0): Gini 1 - sum p^2, entropy -sum p log2 p
// (scikit-learn's definitions).
HP_HD inline double impurity(Criterion c, const double* counts, int n_classes, double total) {
  double r = c == Criterion::gini ? 1.0 : 0.0;
  for (int k = 0; k < n_classes; ++k) {
    const double p = counts[k] / total;
    if (c == Criterion::gini) {
      r -= mul_rn(p, p);
    } else if (p > 0) {
      r -= mul_rn(p, log2(p));
    }
  }
  return r;
}

// Weights of bootstrap draws per class: out[k] = cw[k] * draws[k] (draws are integers, so the
// node's weights do not depend on the order its rows were visited in); returns their sum.
HP_HD inline double class_weights(const double* cw, const double* draws, int n_classes,
                                  double* out) {
  double total = 0;
  for (int k = 0; k < n_classes; ++k) {
    out[k] = mul_rn(cw[k], draws[k]);
    total += out[k];
  }
  return total;
}

// The best split found so far at a node: left = rows whose bin of `feature` is <= `bin`;
// `next_bin` is the lowest non-empty bin on the right.
struct SplitCandidate {
  int feature = -1;
  int bin = -1;
  int next_bin = -1;
  double proxy = -std::numeric_limits<double>::infinity();  // -(wL impL + wR impR)
  int64_t n_left = 0;
};

// Scans the non-empty bins `bins[0..n_visit)` (increasing) of one feature's histogram over a
// node: hist [n_bins, n_classes] bootstrap draws per class, cnt [n_bins] distinct rows (any
// integer types: the host counts in int64, the device in uint32). A draw of class k weighs
// cw[k]; the node holds `node_draws` [n_classes] draws (as doubles) over node_n rows. A threshold
// is valid when both sides keep >= min_leaf rows and a positive weight; `best` is replaced only
// by a strictly better proxy, so ties go to the feature visited first and the lowest bin.
// `scratch` is [3 * n_classes].
template <class Draws, class Rows>
HP_HD inline void best_bin_split(Criterion c, const Draws* hist, const Rows* cnt, const int* bins,
                                 int n_visit, int n_classes, const double* cw,
                                 const double* node_draws, int64_t node_n, int64_t min_leaf,
                                 int feature, double* scratch, SplitCandidate& best) {
  double* left = scratch;  // draws left of the threshold (integers, exact in double)
  double* wl = scratch + n_classes;
  double* wr = scratch + 2 * n_classes;
  for (int k = 0; k < n_classes; ++k) left[k] = 0;
  int64_t n_left = 0;
  // The last non-empty bin cannot be a threshold: its right side would be empty.
  for (int t = 0; t + 1 < n_visit; ++t) {
    const int b = bins[t];
    for (int k = 0; k < n_classes; ++k) left[k] += static_cast<double>(hist[b * n_classes + k]);
    n_left += static_cast<int64_t>(cnt[b]);
    const int64_t n_right = node_n - n_left;
    if (n_left < min_leaf || n_right < min_leaf) continue;
    double w_left = 0, w_right = 0;
    for (int k = 0; k < n_classes; ++k) {
      wl[k] = mul_rn(cw[k], left[k]);
      wr[k] = mul_rn(cw[k], node_draws[k] - left[k]);
      w_left += wl[k];
      w_right += wr[k];
    }
    if (w_left <= 0 || w_right <= 0) continue;
    const double imp_l = impurity(c, wl, n_classes, w_left);
    const double imp_r = impurity(c, wr, n_classes, w_right);
    const double proxy = -(mul_rn(w_left, imp_l) + mul_rn(w_right, imp_r));
    if (proxy > best.proxy) {
      best.feature = feature;
      best.bin = b;
      best.next_bin = bins[t + 1];
      best.proxy = proxy;
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
