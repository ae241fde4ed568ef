// Within-speaker whitening (whitening.h): a case worked by hand, the defining property (the
// fitting speakers' pooled within-speaker covariance becomes the identity), strided rows, errors.
#include "hptrain/diarization/whitening.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hptrain/error.h"

namespace hptrain::diarization {
namespace {

// Speaker 0 around (0, 1): (2, 1), (-2, 1), (0, 2), (0, 0); speaker 1 the same shape around
// (0, -1). Deviations (+-2, 0) and (0, +-1): pooled within-speaker scatter diag(16, 4) over 8
// rows, S_w = diag(2, 0.5), mean eigenvalue 1.25; the mean of all rows is (0, 0). A row labelled
// -1 (far away) is left out of both.
TEST(Whitening, WorkedByHand) {
  const std::vector<float> rows = {2, 1, -2, 1, 0, 2, 0, 0, 2, -1, -2, -1, 0, 0, 0, -2, 50, 50};
  const std::vector<int64_t> labels = {0, 0, 0, 0, 1, 1, 1, 1, -1};
  const auto w0 = fit_whitening(rows.data(), 9, 2, labels, 0.0);
  ASSERT_EQ(w0.dim, 2);
  EXPECT_NEAR(w0.mean[0], 0, 1e-12);
  EXPECT_NEAR(w0.mean[1], 0, 1e-12);
  EXPECT_NEAR(w0.matrix[0], 1 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(w0.matrix[1], 0, 1e-12);
  EXPECT_NEAR(w0.matrix[2], 0, 1e-12);
  EXPECT_NEAR(w0.matrix[3], std::sqrt(2.0), 1e-12);
  // shrinkage 0.2 adds 0.25 to each eigenvalue: diag(1 / sqrt(2.25), 1 / sqrt(0.75))
  const auto w = fit_whitening(rows.data(), 9, 2, labels, 0.2);
  EXPECT_NEAR(w.matrix[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(w.matrix[3], 1 / std::sqrt(0.75), 1e-12);
  // applied: W (x - mean); (3, 4) -> (2, 4 / sqrt(0.75))
  std::vector<float> x = {3, 4};
  w.apply(x.data(), 1);
  EXPECT_NEAR(x[0], 2.0, 1e-6);
  EXPECT_NEAR(x[1], 4 / std::sqrt(0.75), 1e-5);
}

// Three speakers in 4 dimensions, each spread by the same random correlated covariance: without
// shrinkage, the whitened rows' pooled within-speaker covariance is the identity.
TEST(Whitening, WithinSpeakerCovarianceBecomesTheIdentity) {
  std::mt19937 rng(7);
  std::normal_distribution<double> g(0, 1);
  const int d = 4, per = 200;
  double mix[d][d];
  for (auto& r : mix) {
    for (double& v : r) v = g(rng);
  }
  std::vector<float> rows;
  std::vector<int64_t> labels;
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < per; ++i) {
      double z[d];
      for (double& v : z) v = g(rng);
      for (int k = 0; k < d; ++k) {
        double v = 5.0 * (k == s);
        for (int j = 0; j < d; ++j) v += mix[k][j] * z[j];
        rows.push_back(static_cast<float>(v));
      }
      labels.push_back(s);
    }
  }
  const int64_t n = 3 * per;
  const auto w = fit_whitening(rows.data(), n, d, labels, 0.0);
  std::vector<float> y = rows;
  w.apply(y.data(), n);
  double mean[3][d] = {};
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < d; ++k) mean[labels[i]][k] += y[i * d + k] / per;
  }
  for (int a = 0; a < d; ++a) {
    for (int b = 0; b < d; ++b) {
      double c = 0;
      for (int64_t i = 0; i < n; ++i) {
        c += (y[i * d + a] - mean[labels[i]][a]) * (y[i * d + b] - mean[labels[i]][b]);
      }
      EXPECT_NEAR(c / static_cast<double>(n), a == b ? 1.0 : 0.0, 1e-4) << a << "," << b;
    }
  }
  // rows inside wider rows (stride 6): the first 4 columns as above, the other 2 untouched
  std::vector<float> wide;
  for (int64_t i = 0; i < n; ++i) {
    wide.insert(wide.end(), rows.begin() + i * d, rows.begin() + (i + 1) * d);
    wide.push_back(9);
    wide.push_back(-9);
  }
  w.apply(wide.data(), n, 6);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < d; ++k) EXPECT_FLOAT_EQ(wide[i * 6 + k], y[i * d + k]);
    EXPECT_EQ(wide[i * 6 + 4], 9);
    EXPECT_EQ(wide[i * 6 + 5], -9);
  }
}

TEST(Whitening, NeedsTwoSpeakersOfTwoRows) {
  const std::vector<float> rows = {1, 0, 2, 0, 0, 1};
  EXPECT_THROW(fit_whitening(rows.data(), 3, 2, {0, 0, 1}), InputError);  // speaker 1: one row
  EXPECT_THROW(fit_whitening(rows.data(), 3, 2, {0, 0}), Error);          // labels for 2 of 3
  EXPECT_THROW(fit_whitening(rows.data(), 3, 2, {0, 0, 0}, -1.0), ConfigError);
}

}  // namespace
}  // namespace hptrain::diarization
