// The large-working-set SMO (SvmConfig::working_set = q) against LIBSVM's pairwise SMO
// (working_set = 0): the same dual objective, KKT conditions at exit, rho and decision values, on
// seeded problems of awkward sizes (l < q, l = q + 1, q = 2, unbalanced classes, alphas at C),
// with shrinking on and off for the pairwise side; and on the GPU, the device working set
// (cuda::KernelRows::ws_*) against the formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/baselines/svm.h"
#include "support/support.h"
#include "toy_data.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/kernel_rows.h"
#endif

namespace hptrain::baselines {
namespace {

// Both solvers stop at a maximal KKT violation < tol = 1e-6 and reach the same optimum: measured
// relative difference of the dual objectives <= 9e-14 on every case, of rho <= 2e-7, of the
// decision values on the training rows <= 1.6e-6, with the same support vectors. The bounds
// keep a margin for other compilers and thread counts (summation orders).
constexpr double kTol = 1e-6;
constexpr double kObjectiveRtol = 1e-9;
constexpr double kDecisionAtol = 1e-5;
// float32 kernel values (RBF through |a|^2 + |b|^2 - 2 a.b): relative error ~1e-7
constexpr double kKernelRtol = 1e-7;

struct Problem {
  std::vector<float> X;
  std::vector<int32_t> y;
  int64_t n = 0, d = 0;
};

// n0 rows of class 0 around +mu, n1 of class 1 around -mu (per feature), unit noise: overlapping
// when sep is small, so some alphas reach C.
Problem two_classes(int64_t n0, int64_t n1, int64_t d, double sep, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Problem p;
  p.n = n0 + n1;
  p.d = d;
  for (int64_t i = 0; i < p.n; ++i) {
    // classes interleaved so that neither solver sees them sorted
    const int32_t c = (i * n1) / p.n != ((i + 1) * n1) / p.n ? 1 : 0;
    p.y.push_back(c);
    for (int64_t k = 0; k < d; ++k) {
      p.X.push_back(static_cast<float>((c == 0 ? sep : -sep) / std::sqrt(double(d)) + g(rng)));
    }
  }
  return p;
}

struct Case {
  std::string name;
  int64_t n0, n1, d;
  double sep;
  std::string kernel;
  double C;
  int64_t q;
};

std::vector<Case> cases() {
  return {
      {"l_below_q", 20, 17, 3, 1.5, "rbf", 1.0, 64},
      {"l_is_q_plus_1", 33, 32, 4, 1.0, "rbf", 2.0, 64},
      {"q_is_2", 60, 60, 3, 1.0, "rbf", 1.0, 2},
      {"odd_q", 70, 81, 5, 1.0, "linear", 0.5, 7},
      {"unbalanced", 270, 30, 4, 1.5, "rbf", 10.0, 32},
      {"alphas_at_C", 200, 200, 6, 0.4, "linear", 0.05, 32},
      {"many_rounds", 300, 300, 8, 1.0, "rbf", 100.0, 16},
  };
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

SvmConfig config(const Case& c, int64_t q, bool shrinking) {
  SvmConfig cfg;
  cfg.kernel = c.kernel;
  cfg.C = c.C;
  cfg.tol = kTol;
  cfg.probability = false;
  cfg.standardize = false;
  cfg.shrinking = shrinking;
  cfg.working_set = q;
  cfg.device = "cpu";
  cfg.n_threads = 1;
  return cfg;
}

// K(a, b) in double from the definition (independent of kernel_block's float path).
double kernel(const SvmClassifier& svm, const std::string& type, const float* a, const float* b,
              int64_t d) {
  double dot = 0, sq = 0;
  for (int64_t k = 0; k < d; ++k) {
    dot += double(a[k]) * b[k];
    sq += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
  }
  return type == "linear" ? dot : std::exp(-svm.gamma() * sq);
}

// Dual objective 0.5 a'Qa - e'a of a binary model, Q_ij = y_i y_j K_ij, from its coefficients
// y_i alpha_i (LIBSVM's obj).
double dual_objective(const SvmClassifier& svm, const std::string& type, int64_t d) {
  const auto sv = svm.support_vectors();
  const auto& coef = svm.dual_coef();
  const size_t m = coef.size();
  double quad = 0, lin = 0;
  for (size_t i = 0; i < m; ++i) {
    lin += std::fabs(coef[i]);
    for (size_t j = 0; j < m; ++j) {
      quad += coef[i] * coef[j] * kernel(svm, type, &sv[i * d], &sv[j * d], d);
    }
  }
  return 0.5 * quad - lin;
}

class WorkingSetTest : public ::testing::TestWithParam<Case> {};

TEST_P(WorkingSetTest, SameDualObjectiveAsPairwise) {
  const Case c = GetParam();
  const Problem p = two_classes(c.n0, c.n1, c.d, c.sep, 11);
  SvmClassifier ws(config(c, c.q, true));
  ws.fit(p.X.data(), p.n, p.d, p.y.data(), 2);
  const double f_ws = dual_objective(ws, c.kernel, p.d);
  std::vector<double> dec_ws(p.n), dec_pair(p.n);
  ws.decision_function(p.X.data(), p.n, dec_ws.data());
  for (bool shrinking : {true, false}) {
    SvmClassifier pair(config(c, 0, shrinking));
    pair.fit(p.X.data(), p.n, p.d, p.y.data(), 2);
    const double f_pair = dual_objective(pair, c.kernel, p.d);
    EXPECT_NEAR(f_ws, f_pair, kObjectiveRtol * std::fabs(f_pair)) << "shrinking " << shrinking;
    EXPECT_NEAR(ws.intercept()[0], pair.intercept()[0], kDecisionAtol) << "shrinking " << shrinking;
    pair.decision_function(p.X.data(), p.n, dec_pair.data());
    EXPECT_TRUE(test::all_close("decision ws vs pairwise, shrinking " + std::to_string(shrinking),
                                dec_ws.data(), dec_pair.data(), static_cast<size_t>(p.n),
                                kDecisionAtol, 0.0));
    // support vectors: the same set (a variable within tol of 0 could differ: one allowed)
    const double n_ws = double(ws.support().size()), n_pair = double(pair.support().size());
    EXPECT_NEAR(n_ws, n_pair, 1.0) << "shrinking " << shrinking;
  }
}

// KKT conditions of the solution, from decision values computed here in double: 0 <= alpha <= C,
// sum y alpha = 0, y f >= 1 at alpha = 0, = 1 on free vectors, <= 1 at C, to tol plus the
// float error of the kernel values (relative ~1e-7, times sum |coef|); the pairwise solver
// passes the same check (the slack is the float arithmetic's, not the working set's).
TEST_P(WorkingSetTest, KktConditionsHoldAtExit) {
  const Case c = GetParam();
  const Problem p = two_classes(c.n0, c.n1, c.d, c.sep, 11);
  for (int64_t q : {c.q, int64_t{0}}) {
    SCOPED_TRACE("working_set " + std::to_string(q));
    SvmClassifier svm(config(c, q, true));
    svm.fit(p.X.data(), p.n, p.d, p.y.data(), 2);
    const auto sv = svm.support_vectors();
    const auto& coef = svm.dual_coef();
    std::vector<double> alpha(p.n, 0.0);
    double sum_y_alpha = 0, sum_alpha = 0;
    for (size_t s = 0; s < coef.size(); ++s) {
      alpha[svm.support()[s]] = std::fabs(coef[s]);
      sum_y_alpha += coef[s];
      sum_alpha += std::fabs(coef[s]);
    }
    EXPECT_NEAR(sum_y_alpha, 0.0, 1e-9);
    const double slack = kTol + kKernelRtol * sum_alpha;
    int at_c = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      double f = svm.intercept()[0];
      for (size_t s = 0; s < coef.size(); ++s) {
        f += coef[s] * kernel(svm, c.kernel, &p.X[i * p.d], &sv[s * p.d], p.d);
      }
      const double yf = (p.y[i] == 0 ? 1 : -1) * f;
      ASSERT_GE(alpha[i], 0);
      ASSERT_LE(alpha[i], c.C);
      if (alpha[i] == 0) {
        EXPECT_GE(yf, 1 - slack) << "row " << i;
      } else if (alpha[i] < c.C) {
        EXPECT_NEAR(yf, 1, slack) << "row " << i;
      } else {
        ++at_c;
        EXPECT_LE(yf, 1 + slack) << "row " << i;
      }
    }
    if (c.name == "alphas_at_C" || c.name == "unbalanced") {
      EXPECT_GT(at_c, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Problems, WorkingSetTest, ::testing::ValuesIn(cases()), case_name);

// The default tol (1e-3) on a 3-class problem: the working-set fit predicts as the pairwise one,
// with rho and decision values within tol's reach, on held-out rows.
TEST(WorkingSet, MulticlassFitMatchesPairwise) {
  const auto train = test::blobs(4500, 10, 3, 1.0, 3);
  const auto test_set = test::blobs(600, 10, 3, 1.0, 4);
  SvmConfig cfg;
  cfg.probability = false;
  cfg.device = "cpu";
  cfg.working_set = 0;
  SvmClassifier pair(cfg);
  pair.fit(train.X.data(), train.n, train.d, train.y.data(), 3);
  cfg.working_set = 256;
  SvmClassifier ws(cfg);
  ws.fit(train.X.data(), train.n, train.d, train.y.data(), 3);
  std::vector<int32_t> p_pair(test_set.n), p_ws(test_set.n);
  pair.predict(test_set.X.data(), test_set.n, p_pair.data());
  ws.predict(test_set.X.data(), test_set.n, p_ws.data());
  int differ = 0;
  for (int64_t i = 0; i < test_set.n; ++i) differ += p_pair[i] != p_ws[i];
  EXPECT_LE(differ, 3) << "test rows predicted differently";
  EXPECT_NEAR(test::accuracy(p_ws, test_set.y), test::accuracy(p_pair, test_set.y), 0.005);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(ws.intercept()[k], pair.intercept()[k], 0.02) << "pair " << k;
  }
  std::vector<double> d_pair(test_set.n * 3), d_ws(test_set.n * 3);
  pair.decision_function(test_set.X.data(), test_set.n, d_pair.data());
  ws.decision_function(test_set.X.data(), test_set.n, d_ws.data());
  EXPECT_TRUE(test::all_close("decision ws vs pairwise", d_ws, d_pair, 0.02, 0.0));
  const double n_pair = double(pair.support().size());
  EXPECT_NEAR(double(ws.support().size()), n_pair, 0.01 * n_pair);
}

// working_set = -1 on the CPU: pairwise below kWorkingSetMinRows rows or when the kernel matrix
// fits the cache, the working set of kAutoWorkingSet otherwise (the same steps and coefficients
// as asking for them).
TEST(WorkingSet, AutoPicksBySizeAndCache) {
  auto fit = [](const test::Toy& t, int64_t q, double cache_mib) {
    SvmConfig cfg;
    cfg.probability = false;
    cfg.device = "cpu";
    cfg.n_threads = 1;
    cfg.working_set = q;
    cfg.cache_size = cache_mib;
    SvmClassifier svm(cfg);
    svm.fit(t.X.data(), t.n, t.d, t.y.data(), 2);
    return std::make_pair(svm.iterations(), svm.dual_coef());
  };
  const auto big = test::blobs(kWorkingSetMinRows + 100, 5, 2, 1.0, 21);
  // 4100^2 floats = 64 MiB: beyond a 16 MiB cache, within 200 MiB (the cache changes no result)
  const auto ws = fit(big, kAutoWorkingSet, 16), pair = fit(big, 0, 200);
  EXPECT_NE(ws.first, pair.first);  // the two solvers take different steps
  EXPECT_EQ(fit(big, -1, 16), ws);
  EXPECT_EQ(fit(big, -1, 200), pair);
  const auto small = test::blobs(kWorkingSetMinRows - 100, 5, 2, 1.0, 21);
  EXPECT_EQ(fit(small, -1, 1), fit(small, 0, 1));
}

TEST(WorkingSet, ConfigRejectsOne) {
  SvmConfig cfg;
  cfg.working_set = 1;
  EXPECT_EQ(cfg.problem().first, "working_set");
  cfg.working_set = -2;
  EXPECT_EQ(cfg.problem().first, "working_set");
  cfg.working_set = 2;
  EXPECT_EQ(cfg.problem().first, "");
}

#ifdef HP_WITH_CUDA
// The device working set against kernel values from the formula: positions filled in two
// rounds (the second replacing some), the q x q submatrix and the double-precision combination.
TEST(WorkingSetGpu, RowsSubmatrixAndCombinationMatchFormula) {
  HP_REQUIRE_GPU();
  const int64_t l = 1037, d = 13, q = 8;
  const auto t = test::blobs(l, d, 2, 1.0, 5);
  KernelParams kp;
  kp.type = KernelType::rbf;
  kp.gamma = 0.07;
  std::vector<float> sq(l);
  row_sq_norms(t.X.data(), l, d, sq.data());
  cuda::KernelRows gpu(kp, t.X.data(), sq.data(), l, d, 0);
  std::vector<int64_t> ws = {5, 1036, 0, 17, 512, 3, 99, 700};
  const std::vector<int64_t> all = {0, 1, 2, 3, 4, 5, 6, 7};
  gpu.ws_fill(ws.data(), all.data(), q, q);
  // second round: positions 1, 6 and 2 get new rows
  const std::vector<int64_t> pos = {1, 6, 2}, rows = {42, 1000, 7};
  gpu.ws_fill(rows.data(), pos.data(), 3, q);
  for (size_t r = 0; r < pos.size(); ++r) ws[pos[r]] = rows[r];
  auto K = [&](int64_t a, int64_t b) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) {
      const double v = double(t.X[a * d + k]) - t.X[b * d + k];
      s += v * v;
    }
    return std::exp(-kp.gamma * s);
  };
  std::vector<float> sub(q * q), ref(q * q);
  gpu.ws_submatrix(ws.data(), q, sub.data());
  for (int64_t a = 0; a < q; ++a) {
    for (int64_t b = 0; b < q; ++b) ref[a * q + b] = static_cast<float>(K(ws[a], ws[b]));
  }
  // float32 GEMM of d = 13 standardised-scale values: ~1e-6
  EXPECT_TRUE(test::all_close("submatrix", sub, ref, 1e-5, 1e-5));
  const std::vector<int64_t> use = {0, 2, 6};
  const std::vector<double> c = {0.5, -3.0, 10.0};
  std::vector<double> out(l);
  gpu.ws_combine(use.data(), c.data(), 3, out.data());
  std::vector<float> got(l), want(l);
  for (int64_t k = 0; k < l; ++k) {
    double s = 0;
    for (size_t r = 0; r < use.size(); ++r) s += c[r] * K(ws[use[r]], k);
    got[k] = static_cast<float>(out[k]);
    want[k] = static_cast<float>(s);
  }
  EXPECT_TRUE(test::all_close("combination", got, want, 1e-4, 1e-5));
}

// A GPU fit with the working set equals the CPU fit with the same working set to tol's reach.
TEST(WorkingSetGpu, FitMatchesCpu) {
  HP_REQUIRE_GPU();
  const auto train = test::blobs(3000, 20, 3, 1.0, 8);
  SvmConfig cfg;
  cfg.probability = false;
  cfg.working_set = 256;
  cfg.device = "cpu";
  SvmClassifier cpu(cfg);
  cpu.fit(train.X.data(), train.n, train.d, train.y.data(), 3);
  cfg.device = "cuda";
  SvmClassifier gpu(cfg);
  gpu.fit(train.X.data(), train.n, train.d, train.y.data(), 3);
  std::vector<double> d_cpu(train.n * 3), d_gpu(train.n * 3);
  cpu.decision_function(train.X.data(), train.n, d_cpu.data());
  gpu.decision_function(train.X.data(), train.n, d_gpu.data());
  EXPECT_TRUE(test::all_close("decision gpu vs cpu", d_gpu, d_cpu, 0.02, 0.0));
  const double n_cpu = double(cpu.support().size());
  EXPECT_NEAR(double(gpu.support().size()), n_cpu, 0.01 * n_cpu);
}
#endif

}  // namespace
}  // namespace hptrain::baselines
