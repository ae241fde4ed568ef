// Level-wise tree growing for the random forest, shared by the CPU builder (one tree per thread)
// and the GPU one (every tree of the forest at once): bootstrap samples, per-node feature draws,
// node records and splits are decided here; a Splitter finds the splits of a level's nodes.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "hptrain/baselines/histogram.h"
#include "hptrain/baselines/random_forest.h"
#include "hptrain/progress.h"

namespace hptrain::baselines {

// What one tree trains on. ref: sklearn/ensemble/_forest.py _parallel_build_trees: bootstrap
// counts become sample weights (here: draws per row, weighed per class by `cw`).
struct TreeSample {
  uint64_t seed = 0;           // the tree's generator seed, from (forest seed, tree index)
  std::vector<int32_t> draws;  // [n] times each row was drawn (1 without bootstrap)
  std::vector<double> cw;      // [n_classes] class weight of one draw
  std::vector<int64_t> rows;   // in-bag rows with a positive weight, increasing
  std::vector<double> root;    // [n_classes] draws per class over the in-bag rows
};
TreeSample sample_tree(const ForestConfig& cfg, int64_t tree, const int32_t* y, int64_t n,
                       int n_classes, const std::vector<double>& class_weight);

// The features a node visits, drawn without replacement from its own generator (seeded by the
// tree seed and the node's path), in the order of sklearn's BestSplitter.node_split.
class FeatureDraw {
 public:
  FeatureDraw(uint64_t node_seed, int64_t d);
  bool done() const { return left_ == 0; }
  int next();

 private:
  std::mt19937_64 rng_;
  std::vector<int> features_;
  int64_t left_;
};

// An open node of the level being grown.
struct LevelNode {
  int tree = 0;    // index into the trees being grown together
  int32_t id = 0;  // its index in its tree
  int depth = 0;
  uint64_t key = 1;   // its path from the root (root 1; children mix64(2 key), mix64(2 key + 1))
  uint64_t seed = 0;  // its generator seed (FeatureDraw), from the tree seed and the key
  int64_t begin = 0;  // its rows: [begin, end) of the splitter's row arrays
  int64_t end = 0;
  std::vector<double> draws;  // [n_classes] bootstrap draws per class (integers)
  double weight = 0, impurity = 0;
  int parent_feature = -1;  // the feature its parent split on (-1: a root)
  // Filled by Splitter::split: the best split (feature -1: none) and the draws per class
  // going left.
  SplitCandidate split;
  std::vector<double> left_draws;
};

// Finds the best split of each node (features drawn as FeatureDraw gives them, until
// max_features were visited and one was not constant) and, for the nodes it splits, moves their
// rows so that the left child's come first: [begin, begin + n_left).
class Splitter {
 public:
  virtual ~Splitter() = default;
  virtual void split(std::vector<LevelNode*>& nodes) = 0;
};

// Everything the tree growing needs to know about the data and the rules.
struct GrowContext {
  const ForestConfig* cfg = nullptr;
  Criterion crit = Criterion::gini;
  int mtry = 1;
  int n_classes = 0;
  int64_t n = 0, d = 0;
  const uint8_t* binned = nullptr;  // [d, n]
  const std::vector<BinRange>* ranges = nullptr;
  const int32_t* y = nullptr;
};

// Grows the trees of `samples` level by level with `splitter` (whose row arrays start as the
// samples' in-bag rows, tree after tree: `root_begin[t]`); nodes are numbered breadth-first.
// trees [samples.size()] and importance [samples.size()][d] (impurity decrease) are filled.
void grow_trees(const GrowContext& g, const std::vector<const TreeSample*>& samples,
                const std::vector<int64_t>& root_begin, Splitter& splitter,
                std::vector<Tree>& trees, std::vector<std::vector<double>>& importance);

// The CPU splitter of one tree: its rows on the host, per-feature histograms built row by row.
std::unique_ptr<Splitter> make_cpu_splitter(const GrowContext& g, const TreeSample& s);

#ifdef HP_WITH_CUDA
// Grows every tree of the forest on CUDA device `device`: trees in groups (as many as fit a
// budget of row slots), each group's levels searched together by cuda::ForestHistogram.
// trees / importance [n_estimators]; `progress` advances per tree.
void grow_forest_gpu(const GrowContext& g, const std::vector<double>& class_weight, int device,
                     std::vector<Tree>& trees, std::vector<std::vector<double>>& importance,
                     Progress& progress);
#endif

}  // namespace hptrain::baselines
