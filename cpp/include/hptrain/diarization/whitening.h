// Within-speaker whitening of embeddings (WCCN: Hatch, Kajarekar and Stolcke, "Within-class
// covariance normalization for SVM-based speaker recognition", ICSLP 2006): fitted on rows of
// known speakers, it maps x to W (x - mean) with W = (S_w + shrinkage tr(S_w)/D I)^(-1/2), S_w
// the pooled within-speaker covariance, so that the directions in which one voice varies weigh
// less in the cosine than those that tell voices apart.
#pragma once

#include <cstdint>
#include <vector>

namespace hptrain::diarization {

struct Whitening {
  int64_t dim = 0;
  std::vector<double> mean;    // [dim]: of all rows
  std::vector<double> matrix;  // [dim, dim], symmetric: W
  // n rows in place, each the first `dim` of `stride` floats (0: dim): W (x - mean)
  void apply(float* rows, int64_t n, int64_t stride = 0) const;
};

// rows [n, dim] with a speaker label each (rows labelled < 0 are left out). `shrinkage` adds that
// share of S_w's mean eigenvalue to each eigenvalue before the inverse square root, so that
// directions the fitting voices never varied in are not blown up. InputError without two
// speakers of at least two rows each.
Whitening fit_whitening(const float* rows, int64_t n, int64_t dim,
                        const std::vector<int64_t>& labels, double shrinkage = 0.01);

}  // namespace hptrain::diarization
