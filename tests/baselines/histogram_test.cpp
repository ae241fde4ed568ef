// Forest split search: bin edges and quantisation, and best_bin_split against a brute-force
// scan of every threshold.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hptrain/baselines/histogram.h"

namespace hptrain::baselines {
namespace {

TEST(Histogram, FewDistinctValuesGetMidpointEdges) {
  const std::vector<float> X = {3, 1, 2, 1, 3, 2};  // one feature
  const auto e = fit_bin_edges(X.data(), 6, 1, 256);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (std::vector<float>{1.5f, 2.5f}));
  std::vector<uint8_t> b(6);
  quantise(e, X.data(), 6, 1, b.data());
  EXPECT_EQ(b, (std::vector<uint8_t>{2, 0, 1, 0, 2, 1}));
}

TEST(Histogram, ManyValuesGetAtMostNBinsOfSimilarSize) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<float> X(10000);
  for (auto& v : X) v = g(rng);
  for (int n_bins : {2, 16, 256}) {
    const auto e = fit_bin_edges(X.data(), 10000, 1, n_bins);
    EXPECT_EQ(static_cast<int>(e[0].size()), n_bins - 1);
    std::vector<uint8_t> b(10000);
    quantise(e, X.data(), 10000, 1, b.data());
    std::vector<int> count(n_bins, 0);
    for (uint8_t v : b) ++count[v];
    for (int c : count) EXPECT_NEAR(c, 10000.0 / n_bins, 2.0) << n_bins << " bins";
  }
}

TEST(Histogram, BestBinSplitMatchesBruteForce) {
  std::mt19937 rng(3);
  const int C = 3, B = 12;
  for (Criterion crit : {Criterion::gini, Criterion::entropy}) {
    for (int trial = 0; trial < 50; ++trial) {
      // m draws of weight 0.5 each (a class weight), so the node's weights are halves
      std::vector<int64_t> hist(B * C, 0), cnt(B, 0);
      std::vector<double> node_draws(C, 0.0), cw(C, 0.5);
      std::vector<int> bins;
      for (int b = 0; b < B; ++b) {
        if (rng() % 3 == 0) continue;  // empty bin
        bins.push_back(b);
        for (int c = 0; c < C; ++c) {
          const int m = static_cast<int>(rng() % 4);
          hist[b * C + c] = m;
          cnt[b] += m;
          node_draws[c] += m;
        }
      }
      std::vector<double> node(C);
      const double W = class_weights(cw.data(), node_draws.data(), C, node.data());
      int64_t N = 0;
      for (int64_t v : cnt) N += v;
      if (W == 0) continue;
      std::vector<double> scratch(3 * C);
      SplitCandidate best;
      best_bin_split(crit, hist.data(), cnt.data(), bins.data(), static_cast<int>(bins.size()), C,
                     cw.data(), node_draws.data(), N, 2, 0, scratch.data(), best);
      // brute force over all thresholds "bin <= t"
      double best_proxy = -1e300;
      int best_t = -1;
      std::vector<double> proxy_at(B, -1e300);
      for (int t = 0; t < B; ++t) {
        std::vector<double> l(C, 0.0), r(C, 0.0);
        int64_t nl = 0;
        for (int b = 0; b <= t; ++b) {
          nl += cnt[b];
          for (int c = 0; c < C; ++c) l[c] += 0.5 * static_cast<double>(hist[b * C + c]);
        }
        double wl = 0;
        for (int c = 0; c < C; ++c) {
          r[c] = node[c] - l[c];
          wl += l[c];
        }
        const double wr = W - wl;
        if (nl < 2 || N - nl < 2 || wl <= 0 || wr <= 0) continue;
        const double proxy =
            -(wl * impurity(crit, l.data(), C, wl) + wr * impurity(crit, r.data(), C, wr));
        proxy_at[t] = proxy;
        if (proxy > best_proxy) {
          best_proxy = proxy;
          best_t = t;
        }
      }
      if (best_t < 0) {
        EXPECT_EQ(best.feature, -1);
        continue;
      }
      ASSERT_EQ(best.feature, 0);
      EXPECT_NEAR(best.proxy, best_proxy, 1e-9);
      EXPECT_NEAR(proxy_at[best.bin], best_proxy, 1e-9) << "trial " << trial;
    }
  }
}

TEST(Histogram, ImpurityOfKnownCounts) {
  const double even[2] = {2, 2}, pure[2] = {0, 5}, third[3] = {1, 1, 1};
  EXPECT_DOUBLE_EQ(impurity(Criterion::gini, even, 2, 4), 0.5);
  EXPECT_DOUBLE_EQ(impurity(Criterion::entropy, even, 2, 4), 1.0);
  EXPECT_DOUBLE_EQ(impurity(Criterion::gini, pure, 2, 5), 0.0);
  EXPECT_DOUBLE_EQ(impurity(Criterion::entropy, pure, 2, 5), 0.0);
  EXPECT_NEAR(impurity(Criterion::entropy, third, 3, 3), std::log2(3.0), 1e-12);
}

}  // namespace
}  // namespace hptrain::baselines
