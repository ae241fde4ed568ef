// Two-stage clustering of a long recording (recording_clustering.h) on embeddings whose speakers
// are known by construction.
#include "hptrain/diarization/recording_clustering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

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

}  // namespace
}  // namespace hptrain::diarization
