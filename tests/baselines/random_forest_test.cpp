// Random forest: perfect fit of a noiseless tree-shaped problem, deeper never worse on the
// training data, determinism across thread counts, importances, probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "hptrain/baselines/random_forest.h"
#include "hptrain/device.h"
#include "hptrain/error.h"
#include "toy_data.h"

namespace hptrain::baselines {
namespace {

ForestConfig single_tree(const std::string& criterion) {
  ForestConfig c;
  c.n_estimators = 1;
  c.bootstrap = false;
  c.max_features.rule = "all";
  c.criterion = criterion;
  return c;
}

class ForestCriterion : public ::testing::TestWithParam<std::string> {};

// The labels are a depth-2 tree (x0 <= 0.5 -> 0; x1 <= 0.3 -> 1; else 2): one tree with every
// feature finds exactly it: 5 nodes, root on x0 between 0.45 and 0.55, then x1 between 0.25
// and 0.35, pure leaves, and 100% training accuracy.
TEST_P(ForestCriterion, SingleTreeRecoversTreeShapedProblem) {
  const auto t = test::tree_shaped();
  RandomForestClassifier rf(single_tree(GetParam()));
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  const Tree& tr = rf.trees().at(0);
  ASSERT_EQ(tr.size(), 5);
  EXPECT_EQ(tr.depth(), 2);
  EXPECT_EQ(tr.feature[0], 0);
  EXPECT_GT(tr.threshold[0], 0.45f);
  EXPECT_LT(tr.threshold[0], 0.55f);
  const int32_t right = tr.right[0];
  EXPECT_EQ(tr.feature[right], 1);
  EXPECT_GT(tr.threshold[right], 0.25f);
  EXPECT_LT(tr.threshold[right], 0.35f);
  std::vector<int32_t> pred(t.n);
  rf.predict(t.X.data(), t.n, pred.data());
  EXPECT_EQ(test::accuracy(pred, t.y), 1.0);
  // x2 never splits; x0 removes more impurity than x1
  const auto& imp = rf.feature_importances();
  EXPECT_EQ(imp[2], 0.0);
  EXPECT_GT(imp[0], imp[1]);
  EXPECT_NEAR(imp[0] + imp[1] + imp[2], 1.0, 1e-12);
  // Worked by hand: the root holds 500/150/350 of classes 0/1/2, its right child 0/150/350
  // and every leaf is pure. Gini: root 1 - (.5^2 + .15^2 + .35^2) = 0.605, right child
  // 1 - (.3^2 + .7^2) = 0.42; decreases 1000 * 0.605 - 500 * 0.42 = 395 (x0) and
  // 500 * 0.42 = 210 (x1), total 605. Entropy (any base): the same with H(.5, .15, .35) and
  // H(.3, .7).
  const auto h = [](std::vector<double> p) {
    double e = 0;
    for (double q : p) e -= q * std::log(q);
    return e;
  };
  const double root = GetParam() == "gini" ? 0.605 : h({.5, .15, .35});
  const double right_child = GetParam() == "gini" ? 0.42 : h({.3, .7});
  const double total = 1000 * root;
  EXPECT_NEAR(imp[0], (1000 * root - 500 * right_child) / total, 1e-9);
  EXPECT_NEAR(imp[1], 500 * right_child / total, 1e-9);
  // leaf values are the class frequencies: node 1 (left of the root) all class 0
  EXPECT_EQ(tr.n_samples[0], 1000);
  EXPECT_EQ(tr.n_samples[tr.left[0]], 500);
  EXPECT_EQ(tr.n_samples[right], 500);
  EXPECT_EQ(tr.value[right * 3 + 1], 0.3f);
  EXPECT_EQ(tr.value[right * 3 + 2], 0.7f);
}

TEST_P(ForestCriterion, ForestFitsTreeShapedProblem) {
  const auto t = test::tree_shaped();
  ForestConfig cfg;
  cfg.criterion = GetParam();
  cfg.n_estimators = 20;
  RandomForestClassifier rf(cfg);
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  std::vector<int32_t> pred(t.n);
  rf.predict(t.X.data(), t.n, pred.data());
  EXPECT_EQ(test::accuracy(pred, t.y), 1.0);
}

INSTANTIATE_TEST_SUITE_P(Criteria, ForestCriterion, ::testing::Values("gini", "entropy"));

// Thresholds sit midway between the node's neighbouring values, as scikit-learn's splitter
// puts them, not at the first bin edge: x1 separates class 2 (x0 in 1..4) at the root, then the
// node holding x0 in {0, 5} splits at 2.5 (a bin-edge threshold would be 0.5).
TEST(Forest, ThresholdIsMidwayBetweenTheNodesValues) {
  std::vector<float> X;
  std::vector<int32_t> y;
  for (int i = 0; i < 4; ++i) {
    X.insert(X.end(), {0, 0, 5, 0});
    y.insert(y.end(), {0, 1});
  }
  for (int i = 0; i < 8; ++i) {
    X.insert(X.end(), {static_cast<float>(1 + i % 4), 1});
    y.push_back(2);
  }
  RandomForestClassifier rf(single_tree("gini"));
  rf.fit(X.data(), 16, 2, y.data(), 3);
  const Tree& t = rf.trees()[0];
  ASSERT_EQ(t.size(), 5);
  EXPECT_EQ(t.feature[0], 1);
  EXPECT_EQ(t.threshold[0], 0.5f);
  const int32_t left = t.left[0];
  EXPECT_EQ(t.feature[left], 0);
  EXPECT_EQ(t.threshold[left], 2.5f);
  // Gini worked by hand: the root (4/4/8 of classes 0/1/2) is 1 - (1/16 + 1/16 + 1/4) = 0.625,
  // its left child (4/4/0) 0.5, every other node 0. Decreases: x1 at the root
  // 16 * 0.625 - 8 * 0.5 = 6, x0 at the left child 8 * 0.5 = 4: importances 0.6 and 0.4.
  EXPECT_NEAR(rf.feature_importances()[1], 0.6, 1e-12);
  EXPECT_NEAR(rf.feature_importances()[0], 0.4, 1e-12);
  EXPECT_EQ(t.value[left * 3 + 0], 0.5f);
  EXPECT_EQ(t.value[left * 3 + 1], 0.5f);
  EXPECT_EQ(t.value[t.right[0] * 3 + 2], 1.0f);
}

// A node's random draws depend only on its path, so a deeper tree refines a shallower one and
// its training accuracy cannot drop.
TEST(Forest, DeeperNeverWorseOnTrainingData) {
  const auto t = test::blobs(400, 6, 3, 1.0, 11);
  ForestConfig cfg;
  cfg.n_estimators = 1;
  cfg.bootstrap = false;
  double prev = 0;
  for (int depth = 1; depth <= 26; ++depth) {
    cfg.max_depth = depth;
    if (depth == 26) cfg.max_depth.reset();  // unlimited
    RandomForestClassifier rf(cfg);
    rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
    if (cfg.max_depth) {
      EXPECT_LE(rf.trees()[0].depth(), depth);
    }
    std::vector<int32_t> pred(t.n);
    rf.predict(t.X.data(), t.n, pred.data());
    const double acc = test::accuracy(pred, t.y);
    EXPECT_GE(acc, prev) << "max_depth " << depth;
    prev = acc;
  }
  EXPECT_EQ(prev, 1.0);  // unlimited growth separates distinct points
}

TEST(Forest, SameSeedSameForestAnyThreadCount) {
  const auto t = test::blobs(300, 8, 3, 1.5, 5);
  ForestConfig cfg;
  cfg.n_estimators = 12;
  cfg.seed = 42;
  std::vector<std::vector<float>> probs;
  for (int threads : {1, 2, 5}) {
    cfg.n_threads = threads;
    RandomForestClassifier rf(cfg);
    rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
    std::vector<float> p(t.n * t.k);
    rf.predict_proba(t.X.data(), t.n, p.data());
    probs.push_back(p);
  }
  EXPECT_EQ(probs[0], probs[1]);
  EXPECT_EQ(probs[0], probs[2]);
  cfg.seed = 43;
  RandomForestClassifier other(cfg);
  other.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  std::vector<float> p(t.n * t.k);
  other.predict_proba(t.X.data(), t.n, p.data());
  EXPECT_NE(p, probs[0]);
}

TEST(Forest, ProbabilitiesAreMeansOfLeafFrequencies) {
  const auto t = test::blobs(200, 4, 3, 1.0, 8);
  ForestConfig cfg;
  cfg.n_estimators = 7;
  cfg.min_samples_leaf = 5;
  RandomForestClassifier rf(cfg);
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  std::vector<float> p(t.n * t.k);
  rf.predict_proba(t.X.data(), t.n, p.data());
  for (int64_t i = 0; i < t.n; ++i) {
    std::vector<double> mean(t.k, 0.0);
    for (const auto& tr : rf.trees()) {
      const float* v = tr.leaf(t.X.data() + i * t.d);
      for (int c = 0; c < t.k; ++c) mean[c] += v[c] / rf.trees().size();
    }
    for (int c = 0; c < t.k; ++c) ASSERT_NEAR(p[i * t.k + c], mean[c], 1e-6);
    EXPECT_NEAR(p[i * t.k] + p[i * t.k + 1] + p[i * t.k + 2], 1.0, 1e-5);
  }
}

TEST(Forest, MinSamplesLeafBoundsEveryLeaf) {
  const auto t = test::blobs(300, 5, 2, 0.5, 3);
  ForestConfig cfg;
  cfg.n_estimators = 5;
  cfg.min_samples_leaf = 9;
  RandomForestClassifier rf(cfg);
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  for (const auto& tr : rf.trees()) {
    for (int64_t i = 0; i < tr.size(); ++i) {
      if (tr.feature[i] < 0) {
        EXPECT_GE(tr.n_samples[i], 9);
      }
    }
  }
}

TEST(Forest, ConstantFeatureIsNeverUsed) {
  auto t = test::blobs(200, 4, 2, 2.0, 6);
  for (int64_t i = 0; i < t.n; ++i) t.X[i * t.d + 2] = 3.0f;
  ForestConfig cfg;
  cfg.n_estimators = 10;
  RandomForestClassifier rf(cfg);
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  EXPECT_EQ(rf.feature_importances()[2], 0.0);
  for (const auto& tr : rf.trees()) {
    for (int32_t f : tr.feature) EXPECT_NE(f, 2);
  }
}

TEST(Forest, BalancedClassWeightRaisesMinorityRecall) {
  auto t = test::blobs(600, 2, 2, 1.0, 21);
  // keep one in five of class 1: a 5:1 imbalance
  test::Toy u{{}, {}, 0, t.d, 2};
  for (int64_t i = 0; i < t.n; ++i) {
    if (t.y[i] == 1 && i % 5 != 1) continue;
    u.X.insert(u.X.end(), t.X.begin() + i * t.d, t.X.begin() + (i + 1) * t.d);
    u.y.push_back(t.y[i]);
  }
  u.n = static_cast<int64_t>(u.y.size());
  auto minority_predicted = [&](const std::string& cw) {
    ForestConfig cfg;
    cfg.n_estimators = 30;
    cfg.max_depth = 3;
    cfg.class_weight = cw;
    RandomForestClassifier rf(cfg);
    rf.fit(u.X.data(), u.n, u.d, u.y.data(), 2);
    std::vector<int32_t> pred(t.n);
    rf.predict(t.X.data(), t.n, pred.data());
    return std::count(pred.begin(), pred.end(), 1);
  };
  EXPECT_GT(minority_predicted("balanced"), minority_predicted("none"));
}

// Trees are grown level by level (the GPU builder's order), so nodes are numbered breadth-first:
// depth never decreases along the node index and a node's children are neighbours.
TEST(Forest, NodesAreNumberedBreadthFirst) {
  const auto t = test::blobs(400, 6, 3, 1.0, 11);
  ForestConfig cfg;
  cfg.n_estimators = 3;
  cfg.device = "cpu";
  RandomForestClassifier rf(cfg);
  rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  for (const Tree& tr : rf.trees()) {
    std::vector<int> depth(tr.size(), 0);
    for (int64_t i = 0; i < tr.size(); ++i) {
      if (tr.feature[i] < 0) continue;
      EXPECT_EQ(tr.right[i], tr.left[i] + 1);
      depth[tr.left[i]] = depth[tr.right[i]] = depth[i] + 1;
    }
    for (int64_t i = 1; i < tr.size(); ++i) ASSERT_LE(depth[i - 1], depth[i]) << "node " << i;
  }
}

// Node weights are class weights times integer draw counts, so non-integer class weights give
// the same forest whatever the thread count (and the same as the GPU builder's).
TEST(Forest, BalancedSubsampleSameForestAnyThreadCount) {
  auto t = test::blobs(300, 5, 3, 1.0, 6);
  for (int64_t i = 0; i < t.n; i += 3) t.y[i] = 0;  // imbalanced
  ForestConfig cfg;
  cfg.n_estimators = 8;
  cfg.class_weight = "balanced_subsample";
  cfg.criterion = "entropy";
  cfg.device = "cpu";
  std::vector<std::vector<double>> imp;
  for (int threads : {1, 3}) {
    cfg.n_threads = threads;
    RandomForestClassifier rf(cfg);
    rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
    imp.push_back(rf.feature_importances());
  }
  EXPECT_EQ(imp[0], imp[1]);
}

TEST(Forest, DeviceKey) {
  ForestConfig cfg;
  for (const char* ok : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) {
    cfg.device = ok;
    EXPECT_TRUE(cfg.problem().first.empty()) << ok;
  }
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "CPU", ""}) {
    cfg.device = bad;
    EXPECT_EQ(cfg.problem().first, "device") << bad;
  }
  if (!gpu_available()) {  // asking for CUDA where there is none is an error, not a silent CPU
    const auto t = test::blobs(50, 3, 2, 2.0, 1);
    cfg.device = "cuda";
    RandomForestClassifier rf(cfg);
    EXPECT_THROW(rf.fit(t.X.data(), t.n, t.d, t.y.data(), t.k), ConfigError);
  }
}

}  // namespace
}  // namespace hptrain::baselines
