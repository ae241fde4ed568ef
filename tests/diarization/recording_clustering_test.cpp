// Two-stage clustering of a long recording (recording_clustering.h) on embeddings whose speakers
// are known by construction.
#include "hptrain/diarization/recording_clustering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "hptrain/error.h"

namespace hptrain::diarization {
namespace {

// Three speakers along unit axes e0, e1, e2 (small noise), one window a second for 600 s in
// turns of 5 windows; each 100-s piece hears two of them (pieces 0, 3: A B; 1, 4: B C; 2, 5:
// A C). Stage 1 finds two speakers per piece; stage 2 must link the six pieces' twelve clusters
// into exactly the three speakers (cosine of the same speaker's centroids ~1, of others' ~0).
TEST(DiarizeClustering, TwoStagesLinkThePiecesSpeakers) {
  std::mt19937 rng(4);
  std::normal_distribution<double> g(0, 0.1);
  const int d = 6, n = 600;
  const int pair[3][2] = {{0, 1}, {1, 2}, {0, 2}};
  std::vector<float> x;
  std::vector<double> start;
  std::vector<int> truth;
  for (int i = 0; i < n; ++i) {
    const int piece = i / 100;
    const int who = pair[piece % 3][(i / 5) % 2];
    std::vector<double> v(d, 0.0);
    v[static_cast<size_t>(who)] = 1;
    for (auto& e : v) e += g(rng);
    for (auto& e : v) x.push_back(static_cast<float>(e));
    start.push_back(i);
    truth.push_back(who);
  }
  RecordingClusterConfig cfg;
  cfg.standardise = false;
  cfg.piece_s = 100;
  cfg.link_threshold = 0.5;
  ClusterConfig cc;
  cc.threshold = 0.5;
  cc.min_cluster_size = 3;
  const auto lab = cluster_in_pieces(x, start, d, cfg, cc);
  // labels by first appearance: A (0) first, then B (1), then C (2): equal to the truth
  EXPECT_EQ(lab, truth);
  // a fixed number: exactly two speakers in all
  cc.num_speakers = 2;
  const auto two = cluster_in_pieces(x, start, d, cfg, cc);
  EXPECT_EQ(*std::max_element(two.begin(), two.end()), 1);
  // a link threshold above every centroid cosine: each piece's clusters stay apart (12)
  cc.num_speakers = 0;
  cfg.link_threshold = 1.01;
  const auto apart = cluster_in_pieces(x, start, d, cfg, cc);
  EXPECT_EQ(*std::max_element(apart.begin(), apart.end()), 11);
  // a 30-s tail (under half a piece) joins the last piece: still 12 clusters, not 13 or 14
  for (int i = n; i < n + 30; ++i) {
    for (int k = 0; k < d; ++k) x.push_back(k == 0 ? 1.0f : 0.0f);
    start.push_back(i);
  }
  const auto tail = cluster_in_pieces(x, start, d, cfg, cc);
  EXPECT_EQ(*std::max_element(tail.begin(), tail.end()), 11);
}

// Rows holding two embeddings (recording_clustering.h's blocks): block A tells the first 20
// windows from the last 20, block B the even windows from the odd ones. The row cosine is the
// weighted sum of the blocks' cosines, so the clustering follows the block that weighs more
// (two A-alike windows: 0.7, two B-alike: 0.3 at weights 0.7 / 0.3), a whitening touches the
// first block alone, and blocks that do not cover the row, or weights that do not sum to 1, are
// refused.
TEST(DiarizeClustering, EmbeddingBlocksWeighTheirCosines) {
  std::mt19937 rng(2);
  std::normal_distribution<double> g(0, 0.05);
  const int n = 40, d = 4;
  std::vector<float> x;
  std::vector<double> start;
  std::vector<int> halves, alternate;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < d; ++k) x.push_back(static_cast<float>((k == (i < 20 ? 0 : 1)) + g(rng)));
    for (int k = 0; k < d; ++k) x.push_back(static_cast<float>((k == i % 2) + g(rng)));
    start.push_back(i);
    halves.push_back(i < 20 ? 0 : 1);
    alternate.push_back(i % 2);
  }
  RecordingClusterConfig rc;
  rc.standardise = false;
  ClusterConfig cc;
  cc.num_speakers = 2;
  cc.min_cluster_size = 3;
  const auto with = [&](double wa) {
    rc.blocks = {{d, wa}, {d, 1 - wa}};
    return cluster_recording(x, start, 2 * d, n, rc, cc);
  };
  EXPECT_EQ(with(1.0), halves);
  EXPECT_EQ(with(0.7), halves);
  EXPECT_EQ(with(0.3), alternate);
  EXPECT_EQ(with(0.0), alternate);
  // the same in two stages (pieces of 10 s: two stages for a 40-s recording; each piece stops
  // merging under 0.5, between its windows' 1 and the other block's share)
  rc.piece_s = 10;
  cc.threshold = 0.5;
  EXPECT_EQ(with(0.7), halves);
  EXPECT_EQ(with(0.3), alternate);
  // a whitening applies to the first block alone: the identity, whitened alone, changes nothing;
  // one of the whole row's width is refused
  Whitening identity;
  identity.dim = d;
  identity.mean.assign(d, 0.0);
  identity.matrix.assign(d * d, 0.0);
  for (int k = 0; k < d; ++k) identity.matrix[k * d + k] = 1;
  rc.whitening = std::make_shared<const Whitening>(identity);
  rc.whiten_weight = 1;
  EXPECT_EQ(with(0.7), halves);
  EXPECT_EQ(with(0.3), alternate);
  Whitening wide = identity;
  wide.dim = 2 * d;
  rc.whitening = std::make_shared<const Whitening>(wide);
  EXPECT_THROW(with(0.7), ConfigError);
  rc.whitening = nullptr;
  rc.blocks = {{d, 0.5}, {d - 1, 0.5}};
  EXPECT_THROW(cluster_recording(x, start, 2 * d, n, rc, cc), ConfigError);
  rc.blocks = {{d, 0.6}, {d, 0.6}};
  EXPECT_THROW(cluster_recording(x, start, 2 * d, n, rc, cc), ConfigError);
}

// Two voices that differ only where voices vary little (the second axis: +-0.3, spread 0.05)
// and share a large third component, while each varies widely along the first (spread 3): raw
// cosines are all near 1, so the clustering hears one voice. A whitening fitted on four other
// voices spread the same way (means 0, +-0.6, +-0.9 on the second axis) scales the first axis
// down and the second up: the two voices come apart. With whiten_weight, the row cosine is that
// share of the whitened cosine plus the rest of the raw one: 0.7 keeps them apart, 0.1 does not.
TEST(DiarizeClustering, WhiteningSeparatesVoicesWhereVoicesVaryLittle) {
  std::mt19937 rng(5);
  std::normal_distribution<double> wide(0, 3), narrow(0, 0.05);
  const auto voice = [&](double y) {
    return std::vector<float>{static_cast<float>(wide(rng)), static_cast<float>(y + narrow(rng)),
                              static_cast<float>(10 + narrow(rng))};
  };
  std::vector<float> fit;
  std::vector<int64_t> labels;
  const double others[4] = {0.6, -0.6, 0.9, -0.9};
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < 100; ++i) {
      const auto v = voice(others[s]);
      fit.insert(fit.end(), v.begin(), v.end());
      labels.push_back(s);
    }
  }
  const int n = 80, d = 3;
  std::vector<float> x;
  std::vector<double> start;
  std::vector<int> truth;
  for (int i = 0; i < n; ++i) {
    const int who = (i / 5) % 2;
    const auto v = voice(who == 0 ? 0.3 : -0.3);
    x.insert(x.end(), v.begin(), v.end());
    start.push_back(i);
    truth.push_back(who);
  }
  RecordingClusterConfig rc;
  rc.standardise = false;
  ClusterConfig cc;
  cc.threshold = 0.5;
  cc.min_cluster_size = 3;
  const auto count = [](const std::vector<int>& lab) {
    return *std::max_element(lab.begin(), lab.end()) + 1;
  };
  EXPECT_EQ(count(cluster_recording(x, start, d, n, rc, cc)), 1);
  rc.whitening = std::make_shared<const Whitening>(fit_whitening(fit.data(), 400, d, labels, 0.0));
  rc.whiten_weight = 1;
  EXPECT_EQ(cluster_recording(x, start, d, n, rc, cc), truth);
  rc.whiten_weight = 0.7;
  EXPECT_EQ(cluster_recording(x, start, d, n, rc, cc), truth);
  rc.whiten_weight = 0.1;
  EXPECT_EQ(count(cluster_recording(x, start, d, n, rc, cc)), 1);
  // two stages (pieces of 20 s) join the pieces' voices the same way
  rc.whiten_weight = 0.7;
  rc.piece_s = 20;
  rc.link_threshold = 0.5;
  EXPECT_EQ(cluster_recording(x, start, d, n, rc, cc), truth);
  // a whitening of other embeddings, or a weight outside (0, 1]: refused
  rc.whiten_weight = 0;
  EXPECT_THROW(cluster_recording(x, start, d, n, rc, cc), ConfigError);
  rc.whiten_weight = 1;
  const std::vector<float> two = {1, 0, 2, 0, 0, 1, 0, 2};
  rc.whitening = std::make_shared<const Whitening>(fit_whitening(two.data(), 4, 2, {0, 0, 1, 1}));
  EXPECT_THROW(cluster_recording(x, start, d, n, rc, cc), ConfigError);
}

}  // namespace
}  // namespace hptrain::diarization
