// GPU twins of the baselines against their CPU bodies: kernel rows (cuda::KernelRows vs
// baselines::kernel_block) at awkward sizes with guard values around the output, the GPU forest
// vs the CPU forest (the same trees, bit for bit), and the SVM fitted on the GPU vs the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hptrain/baselines/kernel.h"
#include "hptrain/baselines/random_forest.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/cuda/kernel_rows.h"
#include "support/support.h"

namespace hptrain::cuda {
namespace {

using baselines::KernelParams;
using baselines::KernelType;

// Entries are uniform in [-1, 1] / sqrt(d), so |x| <= 1: a float32 dot product of d terms summed
// in another order (cuBLAS vs the CPU's eight partial sums) differs by about d * 6e-8 at most,
// under 1e-5 for d <= 130; the RBF's exp (gamma 0.5) moves by at most half of that.
constexpr double kKernelAtol = 1e-5;
constexpr double kKernelRtol = 1e-5;
constexpr float kSentinel = -1234.5f;
constexpr int64_t kGuard = 64;

struct KernelCase {
  int64_t l, d;
  KernelType type;
};
std::ostream& operator<<(std::ostream& os, const KernelCase& c) {
  return os << (c.type == KernelType::rbf ? "rbf" : "linear") << "_l" << c.l << "_d" << c.d;
}

std::vector<float> random_matrix(int64_t n, int64_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * d));
  const float s = 1.0f / std::sqrt(static_cast<float>(d));
  for (float& v : x) v = u(rng) * s;
  return x;
}

// An output [n_rows, ld] (ld = cols + 2: padding the twins must not touch) fenced by sentinels.
struct GuardedOut {
  GuardedOut(int64_t n_rows, int64_t cols)
      : cols(cols), ld(cols + 2), buf(static_cast<size_t>(n_rows * ld + 2 * kGuard), kSentinel) {}
  float* data() { return buf.data() + kGuard; }
  // The [n_rows, cols] values; fails when a guard or padding value changed.
  std::vector<float> values(int64_t n_rows) const {
    std::vector<float> v;
    for (int64_t i = 0; i < static_cast<int64_t>(buf.size()); ++i) {
      const int64_t j = i - kGuard;
      const bool inside = j >= 0 && j < n_rows * ld && j % ld < cols;
      if (inside) {
        v.push_back(buf[i]);
      } else {
        EXPECT_EQ(buf[i], kSentinel) << "guard or padding overwritten at " << j;
      }
    }
    return v;
  }
  int64_t cols, ld;
  std::vector<float> buf;
};

class KernelRowsTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelRowsTest, MatchesCpuKernelBlock) {
  HP_REQUIRE_GPU();
  const KernelCase c = GetParam();
  const KernelParams p{c.type, 0.5};
  const uint64_t seed = static_cast<uint64_t>(c.l * 131 + c.d);
  const std::vector<float> B = random_matrix(c.l, c.d, seed);
  std::vector<float> b_sq(c.l);
  baselines::row_sq_norms(B.data(), c.l, c.d, b_sq.data());
  KernelRows gpu(p, B.data(), b_sq.data(), c.l, c.d, 0);
  // rows of B itself (a repeat included, as the SMO's i == j never asks but a batch may)
  std::vector<int64_t> rows{c.l - 1, 0, c.l / 2, c.l - 1};
  const int64_t n_rows = static_cast<int64_t>(rows.size());
  for (const auto& [c0, c1] : {std::pair<int64_t, int64_t>{0, c.l}, {c.l / 3, c.l}}) {
    if (c1 <= c0) continue;
    GuardedOut got(n_rows, c1 - c0), ref(n_rows, c1 - c0);
    gpu.kernel_block(rows.data(), n_rows, c0, c1, got.data(), got.ld);
    baselines::kernel_block(p, B.data(), b_sq.data(), rows.data(), n_rows, B.data(), b_sq.data(),
                            c0, c1, c.d, ref.data(), ref.ld);
    EXPECT_TRUE(test::all_close("rows of B, cols [" + std::to_string(c0) + ", " +
                                    std::to_string(c1) + "), seed " + std::to_string(seed),
                                got.values(n_rows), ref.values(n_rows), kKernelAtol, kKernelRtol));
  }
  // host rows A against B (test rows against support vectors)
  const int64_t m = 5;
  const std::vector<float> A = random_matrix(m, c.d, seed + 1);
  std::vector<float> a_sq(m);
  baselines::row_sq_norms(A.data(), m, c.d, a_sq.data());
  std::vector<int64_t> all(m);
  for (int64_t i = 0; i < m; ++i) all[i] = i;
  GuardedOut got(m, c.l), ref(m, c.l);
  gpu.kernel_block(A.data(), a_sq.data(), m, 0, c.l, got.data(), got.ld);
  baselines::kernel_block(p, A.data(), a_sq.data(), all.data(), m, B.data(), b_sq.data(), 0, c.l,
                          c.d, ref.data(), ref.ld);
  EXPECT_TRUE(test::all_close("host rows, seed " + std::to_string(seed), got.values(m),
                              ref.values(m), kKernelAtol, kKernelRtol));
}

std::vector<KernelCase> kernel_cases() {
  std::vector<KernelCase> cases;
  for (KernelType type : {KernelType::linear, KernelType::rbf}) {
    for (int64_t l : {1, 3, 257, 1000}) {
      for (int64_t d : {1, 7, 130}) cases.push_back({l, d, type});
    }
  }
  return cases;
}
INSTANTIATE_TEST_SUITE_P(Sizes, KernelRowsTest, ::testing::ValuesIn(kernel_cases()),
                         [](const auto& info) {
                           std::ostringstream o;
                           o << info.param;
                           return o.str();
                         });

// Seeded blobs: k classes, unit variance, `constant` extra columns that never vary.
struct Data {
  std::vector<float> X;
  std::vector<int32_t> y;
  int64_t n, d;
  int k;
};
Data blobs(int64_t n, int64_t d, int k, int constant, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centre(static_cast<size_t>(k * d));
  for (float& v : centre) v = 1.5f * g(rng);
  Data t{{}, {}, n, d + constant, k};
  for (int64_t i = 0; i < n; ++i) {
    const int32_t c = static_cast<int32_t>((i * 7 + i / 5) % k);  // imbalanced-ish
    t.y.push_back(c);
    for (int64_t j = 0; j < d; ++j) t.X.push_back(centre[c * d + j] + g(rng));
    for (int j = 0; j < constant; ++j) t.X.push_back(3.0f);
  }
  return t;
}

struct ForestCase {
  std::string name;
  baselines::ForestConfig cfg;
  int k = 3;
  int constant = 0;
};
std::ostream& operator<<(std::ostream& os, const ForestCase& c) {
  return os << c.name;
}

class GpuForestTest : public ::testing::TestWithParam<ForestCase> {};

// Same seed, same trees: every node's feature, threshold, children, values and row count, and
// the importances, bit for bit.
TEST_P(GpuForestTest, SameTreesAsCpu) {
  HP_REQUIRE_GPU();
  const ForestCase& c = GetParam();
  const Data t = blobs(700, 9, c.k, c.constant, 17);
  baselines::ForestConfig cpu_cfg = c.cfg, gpu_cfg = c.cfg;
  cpu_cfg.device = "cpu";
  gpu_cfg.device = "cuda";
  baselines::RandomForestClassifier cpu(cpu_cfg), gpu(gpu_cfg);
  cpu.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  gpu.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  ASSERT_EQ(cpu.trees().size(), gpu.trees().size());
  for (size_t i = 0; i < cpu.trees().size(); ++i) {
    const auto& a = cpu.trees()[i];
    const auto& b = gpu.trees()[i];
    ASSERT_EQ(a.feature, b.feature) << "tree " << i;
    EXPECT_EQ(a.threshold, b.threshold) << "tree " << i;
    EXPECT_EQ(a.left, b.left) << "tree " << i;
    EXPECT_EQ(a.right, b.right) << "tree " << i;
    EXPECT_EQ(a.value, b.value) << "tree " << i;
    EXPECT_EQ(a.n_samples, b.n_samples) << "tree " << i;
  }
  EXPECT_EQ(cpu.feature_importances(), gpu.feature_importances());
  std::vector<float> pc(t.n * t.k), pg(t.n * t.k);
  cpu.predict_proba(t.X.data(), t.n, pc.data());
  gpu.predict_proba(t.X.data(), t.n, pg.data());
  EXPECT_EQ(pc, pg);
}

std::vector<ForestCase> forest_cases() {
  auto make = [](const std::string& name) {
    ForestCase c;
    c.name = name;
    c.cfg.n_estimators = 12;
    c.cfg.seed = 5;
    return c;
  };
  std::vector<ForestCase> cases;
  cases.push_back(make("gini"));
  auto e = make("entropy");
  e.cfg.criterion = "entropy";
  cases.push_back(e);
  auto depth = make("max_depth_4");
  depth.cfg.max_depth = 4;
  cases.push_back(depth);
  auto leaf = make("min_samples_leaf_5");
  leaf.cfg.min_samples_leaf = 5;
  leaf.cfg.min_samples_split = 7;
  cases.push_back(leaf);
  auto bal = make("balanced");
  bal.cfg.class_weight = "balanced";
  cases.push_back(bal);
  auto sub = make("balanced_subsample_entropy");
  sub.cfg.class_weight = "balanced_subsample";
  sub.cfg.criterion = "entropy";
  sub.cfg.max_features = {"fraction", 0.5};
  cases.push_back(sub);
  auto nob = make("no_bootstrap_all_features");
  nob.cfg.bootstrap = false;
  nob.cfg.max_features = {"all", 0};
  cases.push_back(nob);
  auto cst = make("constant_columns_seven_classes");  // drawn-constant features: second pass
  cst.k = 7;
  cst.constant = 20;
  cst.cfg.max_features = {"count", 2};
  cases.push_back(cst);
  auto bins = make("sixteen_bins");
  bins.cfg.n_bins = 16;
  cases.push_back(bins);
  return cases;
}
INSTANTIATE_TEST_SUITE_P(Configs, GpuForestTest, ::testing::ValuesIn(forest_cases()),
                         [](const auto& info) { return info.param.name; });

// Kernel values differ from the CPU's in the last float bits (see kKernelAtol), which moves the
// SMO's path slightly: a few borderline vectors may enter or leave the support (as LIBSVM on two
// machines). Each solver stops once its largest KKT violation is under tol = 1e-3, so the two
// solutions are each near-optimal, not equal: their decision values differ by a few tol where
// the dual is flat (the linear kernel on overlapping blobs: up to 5.8e-3 on an H100).
constexpr double kMaxSupportDiff = 0.01;  // fraction of support vectors
constexpr float kDecisionAtol = 1e-2f;
constexpr float kDecisionRtol = 1e-3f;

class GpuSvmTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GpuSvmTest, FitMatchesCpu) {
  HP_REQUIRE_GPU();
  const Data t = blobs(600, 6, 3, 0, 23);
  baselines::SvmConfig cfg;
  cfg.kernel = GetParam();
  cfg.C = 2.0;
  cfg.probability = true;
  cfg.device = "cpu";
  baselines::SvmClassifier cpu(cfg);
  cfg.device = "cuda";
  baselines::SvmClassifier gpu(cfg);
  cpu.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  gpu.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  const std::set<int64_t> a(cpu.support().begin(), cpu.support().end());
  const std::set<int64_t> b(gpu.support().begin(), gpu.support().end());
  std::vector<int64_t> diff;
  std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(diff));
  EXPECT_LE(static_cast<double>(diff.size()), kMaxSupportDiff * static_cast<double>(a.size()))
      << a.size() << " CPU and " << b.size() << " GPU support vectors";
  const int64_t P = static_cast<int64_t>(cpu.intercept().size());
  std::vector<double> dc(t.n * P), dg(t.n * P);
  cpu.decision_function(t.X.data(), t.n, dc.data());
  gpu.decision_function(t.X.data(), t.n, dg.data());
  EXPECT_TRUE(test::all_close(
      "decision values (" + GetParam() + ")", std::vector<float>(dg.begin(), dg.end()),
      std::vector<float>(dc.begin(), dc.end()), kDecisionAtol, kDecisionRtol));
  std::vector<int32_t> lc(t.n), lg(t.n);
  cpu.predict(t.X.data(), t.n, lc.data());
  gpu.predict(t.X.data(), t.n, lg.data());
  int64_t differ = 0;
  for (int64_t i = 0; i < t.n; ++i) differ += lc[i] != lg[i];
  EXPECT_LE(differ, t.n / 100) << "labels differ on " << differ << " of " << t.n << " rows";
}
INSTANTIATE_TEST_SUITE_P(Kernels, GpuSvmTest, ::testing::Values("rbf", "linear"));

}  // namespace
}  // namespace hptrain::cuda
