// SVM: hand-computed margins and support vectors, KKT conditions on a non-separable problem,
// probabilities, determinism, one-vs-one layout.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "hptrain/baselines/svm.h"
#include "hptrain/error.h"
#include "toy_data.h"

namespace hptrain::baselines {
namespace {

SvmConfig linear_cfg(double C) {
  SvmConfig c;
  c.kernel = "linear";
  c.C = C;
  c.tol = 1e-6;
  c.standardize = false;
  c.probability = false;
  return c;
}

// Class 0 at (2,0), (3,1), (3,-1); class 1 at (0,0), (-1,1), (-1,-1). By hand: the maximal
// margin hyperplane is x0 = 1, w = (1, 0), b = -1 (decision x0 - 1 for class 0), margin
// 2/|w| = 2, support vectors (2,0) and (0,0) with alpha = |w|^2 / 2 = 0.5 each.
TEST(Svm, HardMarginLinearMatchesHandSolution) {
  const std::vector<float> X = {2, 0, 3, 1, 3, -1, 0, 0, -1, 1, -1, -1};
  const std::vector<int32_t> y = {0, 0, 0, 1, 1, 1};
  SvmClassifier svm(linear_cfg(1000));
  svm.fit(X.data(), 6, 2, y.data(), 2);
  ASSERT_EQ(svm.support(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(svm.n_support(), (std::vector<int32_t>{1, 1}));
  ASSERT_EQ(svm.dual_coef().size(), 2u);
  EXPECT_NEAR(svm.dual_coef()[0], 0.5, 1e-4);
  EXPECT_NEAR(svm.dual_coef()[1], -0.5, 1e-4);
  ASSERT_EQ(svm.intercept().size(), 1u);
  EXPECT_NEAR(svm.intercept()[0], -1.0, 1e-4);
  const auto sv = svm.support_vectors();
  double w0 = 0, w1 = 0;
  for (int s = 0; s < 2; ++s) {
    w0 += svm.dual_coef()[s] * sv[s * 2];
    w1 += svm.dual_coef()[s] * sv[s * 2 + 1];
  }
  EXPECT_NEAR(w0, 1.0, 1e-4);
  EXPECT_NEAR(w1, 0.0, 1e-4);
  EXPECT_NEAR(2.0 / std::hypot(w0, w1), 2.0, 1e-3);  // the margin
  const std::vector<float> probe = {1.5f, 7.0f, 0.5f, -7.0f};
  std::vector<double> dec(2);
  svm.decision_function(probe.data(), 2, dec.data());
  EXPECT_NEAR(dec[0], 0.5, 1e-4);
  EXPECT_NEAR(dec[1], -0.5, 1e-4);
}

// Two points x = +1 (class 0) and x = -1 (class 1): for C < 1/2 both alphas sit at C and
// w = 2C (soft margin); from C = 1/2 on the hard margin w = 1. The bias is 0 either way.
TEST(Svm, SoftMarginWeightFollowsC) {
  const std::vector<float> X = {1, -1};
  const std::vector<int32_t> y = {0, 1};
  for (double C : {0.1, 0.25, 0.5, 3.0}) {
    SvmClassifier svm(linear_cfg(C));
    svm.fit(X.data(), 2, 1, y.data(), 2);
    const auto sv = svm.support_vectors();
    double w = 0;
    for (size_t s = 0; s < sv.size(); ++s) w += svm.dual_coef()[s] * sv[s];
    EXPECT_NEAR(w, std::min(2 * C, 1.0), 1e-5) << "C = " << C;
    EXPECT_NEAR(svm.intercept()[0], 0.0, 1e-5) << "C = " << C;
  }
}

// Overlapping blobs: the solution satisfies the KKT conditions of the soft-margin dual to the
// tolerance (0 <= alpha <= C, sum y alpha = 0, margins y f >= 1 off the support, = 1 on free
// vectors, <= 1 at the bound) and misclassifies some training points.
TEST(Svm, NonSeparableSolutionSatisfiesKkt) {
  const auto t = test::blobs(200, 3, 2, 1.0, 7);
  SvmConfig cfg = linear_cfg(0.7);
  cfg.tol = 1e-5;
  for (bool shrinking : {true, false}) {
    cfg.shrinking = shrinking;
    SvmClassifier svm(cfg);
    svm.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
    std::vector<double> dec(t.n);
    svm.decision_function(t.X.data(), t.n, dec.data());
    std::vector<double> alpha(t.n, 0.0);
    double sum_y_alpha = 0;
    for (size_t s = 0; s < svm.support().size(); ++s) {
      alpha[svm.support()[s]] = std::fabs(svm.dual_coef()[s]);
      sum_y_alpha += svm.dual_coef()[s];
    }
    EXPECT_NEAR(sum_y_alpha, 0.0, 1e-9);
    int errors = 0;
    constexpr double kSlack = 1e-3;  // margin violation allowed by tol on the gradients
    for (int64_t i = 0; i < t.n; ++i) {
      const double yf = (t.y[i] == 0 ? 1 : -1) * dec[i];
      errors += yf < 0;
      ASSERT_GE(alpha[i], 0);
      ASSERT_LE(alpha[i], cfg.C + 1e-12);
      if (alpha[i] == 0) {
        EXPECT_GE(yf, 1 - kSlack) << "row " << i;
      } else if (alpha[i] < cfg.C - 1e-9) {
        EXPECT_NEAR(yf, 1, kSlack) << "row " << i;
      } else {
        EXPECT_LE(yf, 1 + kSlack) << "row " << i;
      }
    }
    EXPECT_GT(errors, 0);
  }
}

TEST(Svm, RbfSeparatesXor) {
  std::vector<float> X;
  std::vector<int32_t> y;
  for (int i = 0; i < 40; ++i) {
    const float a = (i % 2 ? 1.0f : -1.0f) * (1 + 0.02f * i), b = (i % 4 < 2 ? 1.0f : -1.0f);
    X.insert(X.end(), {a, b});
    y.push_back((a > 0) != (b > 0));
  }
  SvmConfig cfg;
  cfg.C = 10;
  cfg.probability = false;
  SvmClassifier rbf(cfg);
  rbf.fit(X.data(), 40, 2, y.data(), 2);
  std::vector<int32_t> pred(40);
  rbf.predict(X.data(), 40, pred.data());
  EXPECT_EQ(test::accuracy(pred, y), 1.0);
  cfg.kernel = "linear";
  SvmClassifier lin(cfg);
  lin.fit(X.data(), 40, 2, y.data(), 2);
  lin.predict(X.data(), 40, pred.data());
  EXPECT_LE(test::accuracy(pred, y), 0.75);  // no line separates XOR
}

TEST(Svm, GammaScaleAndAutoResolveAsScikitLearn) {
  const auto t = test::blobs(60, 4, 3, 3.0, 1);
  SvmConfig cfg;
  cfg.probability = false;
  cfg.standardize = false;
  cfg.gamma.rule = "auto";
  SvmClassifier a(cfg);
  a.fit(t.X.data(), t.n, t.d, t.y.data(), 3);
  EXPECT_DOUBLE_EQ(a.gamma(), 0.25);
  cfg.gamma.rule = "scale";
  SvmClassifier s(cfg);
  s.fit(t.X.data(), t.n, t.d, t.y.data(), 3);
  double m = 0, v = 0;
  for (float x : t.X) m += x;
  m /= t.X.size();
  for (float x : t.X) v += (x - m) * (x - m);
  v /= t.X.size();
  EXPECT_NEAR(s.gamma(), 1.0 / (4 * v), 1e-9);
}

TEST(Svm, MulticlassProbabilitiesSumToOneAndAgreeWithVotesOnEasyData) {
  const auto t = test::blobs(300, 5, 4, 6.0, 3);
  SvmClassifier svm;
  svm.fit(t.X.data(), t.n, t.d, t.y.data(), 4);
  EXPECT_EQ(svm.intercept().size(), 6u);  // one-vs-one: 4*3/2 problems
  EXPECT_EQ(svm.prob_a().size(), 6u);
  std::vector<float> p(t.n * 4);
  svm.predict_proba(t.X.data(), t.n, p.data());
  std::vector<int32_t> pred(t.n);
  svm.predict(t.X.data(), t.n, pred.data());
  int agree = 0;
  for (int64_t i = 0; i < t.n; ++i) {
    const float* r = p.data() + i * 4;
    EXPECT_NEAR(r[0] + r[1] + r[2] + r[3], 1.0, 1e-5) << "row " << i;
    for (int c = 0; c < 4; ++c) EXPECT_GE(r[c], 0.0f);
    agree += std::max_element(r, r + 4) - r == pred[i];
  }
  EXPECT_GE(agree, t.n * 95 / 100);
  EXPECT_GE(test::accuracy(pred, t.y), 0.95);
}

TEST(Svm, AbsentClassGetsZeroProbability) {
  auto t = test::blobs(90, 2, 3, 6.0, 5);
  for (auto& v : t.y) v = v == 1 ? 3 : v;  // labels {0, 2, 3} of 4 classes
  SvmClassifier svm;
  svm.fit(t.X.data(), t.n, t.d, t.y.data(), 4);
  EXPECT_EQ(svm.classes(), (std::vector<int32_t>{0, 2, 3}));
  std::vector<float> p(t.n * 4);
  svm.predict_proba(t.X.data(), t.n, p.data());
  for (int64_t i = 0; i < t.n; ++i) {
    EXPECT_EQ(p[i * 4 + 1], 0.0f);
    EXPECT_NEAR(p[i * 4] + p[i * 4 + 2] + p[i * 4 + 3], 1.0, 1e-5);
  }
}

TEST(Svm, SameSeedSameModelAnyThreadCount) {
  const auto t = test::blobs(150, 4, 3, 2.0, 9);
  SvmConfig cfg;
  cfg.n_threads = 1;
  SvmClassifier a(cfg);
  a.fit(t.X.data(), t.n, t.d, t.y.data(), 3);
  cfg.n_threads = 3;
  SvmClassifier b(cfg);
  b.fit(t.X.data(), t.n, t.d, t.y.data(), 3);
  EXPECT_EQ(a.support(), b.support());
  EXPECT_EQ(a.dual_coef(), b.dual_coef());
  EXPECT_EQ(a.prob_a(), b.prob_a());
  EXPECT_EQ(a.prob_b(), b.prob_b());
}

// One binary problem without probabilities runs alone, so its kernel rows are split by
// columns over the threads: the solution must not change.
TEST(Svm, KernelRowsSplitOverThreadsGiveTheSameSolution) {
  const auto t = test::blobs(2000, 40, 2, 0.8, 17);
  SvmConfig cfg;
  cfg.probability = false;
  cfg.n_threads = 1;
  SvmClassifier one(cfg);
  one.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  cfg.n_threads = 2;
  SvmClassifier two(cfg);
  two.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  EXPECT_EQ(one.support(), two.support());
  EXPECT_EQ(one.dual_coef(), two.dual_coef());
  EXPECT_EQ(one.intercept(), two.intercept());
}

TEST(Svm, PredictProbaWithoutProbabilityIsAnError) {
  const auto t = test::blobs(40, 2, 2, 4.0, 2);
  SvmConfig cfg;
  cfg.probability = false;
  SvmClassifier svm(cfg);
  svm.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  std::vector<float> p(t.n * 2);
  EXPECT_THROW(svm.predict_proba(t.X.data(), t.n, p.data()), InputError);
}

TEST(Svm, TinyCacheGivesTheSameSolution) {
  const auto t = test::blobs(200, 3, 2, 1.5, 4);
  SvmConfig cfg;
  cfg.probability = false;
  SvmClassifier big(cfg);
  big.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  cfg.cache_size = 0.001;  // two rows: nearly every row is recomputed
  SvmClassifier small(cfg);
  small.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  EXPECT_EQ(big.support(), small.support());
  EXPECT_EQ(big.dual_coef(), small.dual_coef());
}

}  // namespace
}  // namespace hptrain::baselines
