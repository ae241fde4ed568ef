// Clustering of window embeddings into speakers: agglomerative (cosine similarity, average
// linkage, stopped at a similarity threshold or at a number of clusters) and spectral (pruned
// cosine affinity, normalised Laplacian, number from the eigengap, k-means on the eigenvectors).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hptrain::diarization {

struct ClusterConfig {
  std::string method = "ahc";  // ahc | spectral
  // ahc without a fixed number: merging stops when the best average-linkage cosine similarity
  // falls below this (calibrated on development conversations with the train-free embedder:
  // bench/results/2026-12-06-cpu-diarization.md).
  double threshold = -0.1;
  int num_speakers = 0;  // > 0: exactly this many clusters (or fewer when there are fewer items)
  int min_speakers = 1;  // bounds on the number found by the threshold or the eigengap
  int max_speakers = 20;
  // Time-adjacent windows are first merged (most similar pair first) down to this many items,
  // which bounds memory and time on long recordings (a 2-hour film has ~29k windows).
  int max_items_ahc = 2000;
  int max_items_spectral = 600;
  // ahc: a cluster of fewer windows (2 s at the 0.25 s hop) does not count as a speaker and
  // joins the most similar one that does
  double min_cluster_size = 8;
  double spectral_keep = 0.25;  // spectral: each row keeps its top fraction of affinities
  void validate() const;
};

// x: [n, d] rows of unit norm, in time order. Returns a cluster per row, numbered 0.. in order
// of first appearance.
std::vector<int> cluster(const float* x, int64_t n, int64_t d, const ClusterConfig& cfg);

// The average-linkage merges of m items given by their vector sums and counts (what `cluster`
// runs after the adjacency pre-merge): (a, b, similarity) in order of decreasing similarity,
// by the nearest-neighbour chain. For tests against a naive O(m^3) implementation.
struct Merge {
  int a = 0, b = 0;
  double similarity = 0;
};
std::vector<Merge> average_linkage(const std::vector<double>& sums,
                                   const std::vector<double>& counts, int m, int d);

}  // namespace hptrain::diarization
