// Random-forest split search on the GPU: per (node, feature) class histograms of bootstrap draws
// over quantised features (uint8 bins, feature-major [d, n]) and baselines::best_bin_split on the
// device, for many nodes of many trees in one launch; the twin of the CPU node search in
// cpp/src/baselines/forest_build.cpp, giving the same splits bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "hptrain/baselines/histogram.h"
#include "hptrain/cuda/resources.h"

namespace hptrain::cuda {

// The training data, uploaded once. Rows of every tree are "slots": tree t's in-bag rows
// (with their draw counts) are a contiguous range of the slot arrays.
struct ForestData {
  const uint8_t* binned = nullptr;  // [d, n] bins of each feature
  int64_t n = 0, d = 0;
  const int32_t* y = nullptr;  // [n] classes
  int n_classes = 0;
  const int32_t* slot_rows = nullptr;   // [slots] training row of each slot
  const int32_t* slot_draws = nullptr;  // [slots] its bootstrap draws (>= 1)
  int64_t slots = 0;
  const double* tree_cw = nullptr;  // [n_trees, n_classes] weight of one draw per class
  int n_trees = 0;
  baselines::Criterion crit = baselines::Criterion::gini;
  int64_t min_samples_leaf = 1;
};

// One node of a search: its slots and the features it visits, in the order they were drawn.
struct ForestNode {
  int64_t begin = 0, end = 0;  // slots [begin, end)
  int32_t tree = 0;
  int32_t feat_begin = 0, feat_end = 0;  // its features: features[feat_begin, feat_end)
  // 0: the best split over all its features (the first max_features drawn); 1: the split of
  // its first non-constant feature only (the features drawn after max_features constant ones).
  int32_t first_only = 0;
};

struct ForestNodeResult {
  baselines::SplitCandidate best;  // feature -1: none
  int32_t non_constant = 0;        // features visited that had >= 2 non-empty bins
};

// A split to apply: slots [begin, end) whose bin of `feature` is <= `bin` go to
// [begin, begin + n_left), the others to [begin + n_left, end).
struct ForestSplit {
  int64_t begin = 0, end = 0, n_left = 0;
  int32_t feature = 0, bin = 0;
};

// Names the GPU forest's largest supported class count: its histograms live in shared memory.
constexpr int kForestMaxClasses = 32;

class ForestHistogram {
 public:
  // Uploads the data on `device` (cuda:N), on a stream of its own. n_classes <= kForestMaxClasses.
  ForestHistogram(const ForestData& data, int device);
  ForestHistogram(const ForestHistogram&) = delete;
  ForestHistogram& operator=(const ForestHistogram&) = delete;

  // Best split of each node: node_draws [N, n_classes] its draws per class; out results [N] and
  // left_draws [N, n_classes] (the draws per class left of the chosen split). Synchronises once
  // per batch of nodes (the host decides the next level from the results).
  void search(const std::vector<ForestNode>& nodes, const std::vector<int32_t>& features,
              const std::vector<double>& node_draws, std::vector<ForestNodeResult>& results,
              std::vector<double>& left_draws);
  // Moves the slots of each split node to its children's ranges; the next search reads them
  // there. Queued on the stream, no synchronisation.
  void partition(const std::vector<ForestSplit>& splits);

 private:
  int device_;
  Stream stream_;
  int64_t n_, d_;
  int n_classes_;
  baselines::Criterion crit_;
  int64_t min_leaf_;
  DeviceBuffer<uint8_t> binned_;
  DeviceBuffer<int32_t> y_;
  DeviceBuffer<int32_t> rows_[2], draws_[2];  // slots; cur_ is the one searches read
  int cur_ = 0;
  DeviceBuffer<double> tree_cw_;
  // per-search work areas, grown when needed
  DeviceBuffer<ForestNode> nodes_;
  DeviceBuffer<int32_t> features_, item_node_;
  DeviceBuffer<double> node_draws_;
  DeviceBuffer<ForestNodeResult> item_results_, results_;
  DeviceBuffer<double> item_left_, left_;
  DeviceBuffer<ForestSplit> splits_;
  PinnedBuffer<ForestNodeResult> host_results_;
  PinnedBuffer<double> host_left_;
};

}  // namespace hptrain::cuda
