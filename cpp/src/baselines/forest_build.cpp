// Level-wise tree growing shared by the CPU and GPU forest builders, and the CPU splitter; after
// scikit-learn's DepthFirstTreeBuilder and BestSplitter (sklearn/tree/_tree.pyx, _splitter.pyx),
// with every random draw tied to the tree and the node's path so that the order nodes are grown
// in does not matter.
#include "baselines/forest_build.h"

#include <algorithm>
#include <cfloat>
#include <numeric>

#include "baselines/internal.h"
#include "hptrain/error.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/forest.h"
#endif

namespace hptrain::baselines {

TreeSample sample_tree(const ForestConfig& cfg, int64_t tree, const int32_t* y, int64_t n,
                       int n_classes, const std::vector<double>& class_weight) {
  TreeSample s;
  s.seed = mix64(mix64(static_cast<uint64_t>(cfg.seed)) + static_cast<uint64_t>(tree));
  s.draws.assign(n, 1);
  if (cfg.bootstrap) {
    std::fill(s.draws.begin(), s.draws.end(), 0);
    std::mt19937_64 rng(s.seed);
    for (int64_t i = 0; i < n; ++i) ++s.draws[rng() % static_cast<uint64_t>(n)];
  }
  s.cw = class_weight;
  if (cfg.class_weight == "balanced_subsample") {
    std::vector<int64_t> in_bag(n_classes, 0);
    for (int64_t i = 0; i < n; ++i) in_bag[y[i]] += s.draws[i];
    s.cw = balanced_weights(in_bag);
  }
  s.root.assign(n_classes, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    if (s.draws[i] == 0 || !(s.cw[y[i]] > 0)) continue;
    s.rows.push_back(i);
    s.root[y[i]] += s.draws[i];
  }
  return s;
}

FeatureDraw::FeatureDraw(uint64_t node_seed, int64_t d)
    : rng_(node_seed), features_(static_cast<size_t>(d)), left_(d) {
  std::iota(features_.begin(), features_.end(), 0);
}

int FeatureDraw::next() {
  const int64_t pick = static_cast<int64_t>(rng_() % static_cast<uint64_t>(left_));
  const int f = features_[pick];
  std::swap(features_[pick], features_[left_ - 1]);
  --left_;
  return f;
}

void grow_trees(const GrowContext& g, const std::vector<const TreeSample*>& samples,
                const std::vector<int64_t>& root_begin, Splitter& splitter,
                std::vector<Tree>& trees, std::vector<std::vector<double>>& importance) {
  const int C = g.n_classes;
  const ForestConfig& cfg = *g.cfg;
  const int T = static_cast<int>(samples.size());
  trees.assign(T, Tree{});
  importance.assign(T, std::vector<double>(g.d, 0.0));
  std::vector<int32_t> next_id(T, 1);
  std::vector<LevelNode> level(T);
  for (int t = 0; t < T; ++t) {
    trees[t].n_classes = C;
    LevelNode& root = level[t];
    root.tree = t;
    root.seed = mix64(samples[t]->seed ^ root.key);
    root.begin = root_begin[t];
    root.end = root.begin + static_cast<int64_t>(samples[t]->rows.size());
    root.draws = samples[t]->root;
  }
  std::vector<double> w(C);
  while (!level.empty()) {
    std::vector<LevelNode*> search;
    for (LevelNode& nd : level) {
      Tree& tr = trees[nd.tree];
      nd.weight = class_weights(samples[nd.tree]->cw.data(), nd.draws.data(), C, w.data());
      nd.impurity = impurity(g.crit, w.data(), C, nd.weight);
      // Importance (weighted impurity decrease) from the host's impurities of the parent and
      // its children, never the split search's: the GPU's log2 differs in the last bits.
      if (nd.parent_feature >= 0) importance[nd.tree][nd.parent_feature] -= nd.weight * nd.impurity;
      const int64_t n_node = nd.end - nd.begin;
      tr.feature.push_back(-1);
      tr.threshold.push_back(0);
      tr.left.push_back(-1);
      tr.right.push_back(-1);
      tr.n_samples.push_back(n_node);
      for (int k = 0; k < C; ++k) tr.value.push_back(static_cast<float>(w[k] / nd.weight));
      // ref: sklearn/tree/_tree.pyx DepthFirstTreeBuilder.build, is_leaf
      const bool leaf = (cfg.max_depth && nd.depth >= *cfg.max_depth) ||
                        n_node < cfg.min_samples_split || n_node < 2 * cfg.min_samples_leaf ||
                        nd.impurity <= DBL_EPSILON;
      if (!leaf) search.push_back(&nd);
    }
    if (!search.empty()) splitter.split(search);
    std::vector<LevelNode> next;
    for (const LevelNode* nd : search) {
      const SplitCandidate& s = nd->split;
      if (s.feature < 0) continue;
      Tree& tr = trees[nd->tree];
      tr.feature[nd->id] = s.feature;
      tr.threshold[nd->id] = split_threshold((*g.ranges)[s.feature], s.bin, s.next_bin);
      importance[nd->tree][s.feature] += nd->weight * nd->impurity;
      for (int side = 0; side < 2; ++side) {
        LevelNode c;
        c.tree = nd->tree;
        c.id = next_id[nd->tree]++;
        c.depth = nd->depth + 1;
        c.parent_feature = s.feature;
        c.key = mix64(nd->key * 2 + static_cast<uint64_t>(side));
        c.seed = mix64(samples[nd->tree]->seed ^ c.key);
        c.begin = side == 0 ? nd->begin : nd->begin + s.n_left;
        c.end = side == 0 ? nd->begin + s.n_left : nd->end;
        c.draws = nd->left_draws;
        if (side == 1) {
          for (int k = 0; k < C; ++k) c.draws[k] = nd->draws[k] - nd->left_draws[k];
        }
        (side == 0 ? tr.left : tr.right)[nd->id] = c.id;
        next.push_back(std::move(c));
      }
    }
    level = std::move(next);
  }
}

namespace {

class CpuSplitter final : public Splitter {
 public:
  CpuSplitter(const GrowContext& g, const TreeSample& s)
      : g_(g),
        s_(s),
        rows_(s.rows),
        hist_(static_cast<size_t>(256 * g.n_classes), 0),
        cnt_(256, 0),
        scratch_(static_cast<size_t>(3 * g.n_classes)) {}

  void split(std::vector<LevelNode*>& nodes) override {
    for (LevelNode* nd : nodes) {
      nd->split = find_split(*nd);
      if (nd->split.feature < 0) continue;
      const uint8_t* col = g_.binned + nd->split.feature * g_.n;
      const int bin = nd->split.bin;
      std::partition(rows_.begin() + nd->begin, rows_.begin() + nd->end,
                     [&](int64_t r) { return col[r] <= bin; });
      nd->left_draws.assign(g_.n_classes, 0.0);
      for (int64_t r = nd->begin; r < nd->begin + nd->split.n_left; ++r) {
        nd->left_draws[g_.y[rows_[r]]] += s_.draws[rows_[r]];
      }
    }
  }

 private:
  // ref: sklearn/tree/_splitter.pyx BestSplitter.node_split: features drawn without
  // replacement until max_features were visited and at least one was not constant.
  SplitCandidate find_split(const LevelNode& nd) {
    const int C = g_.n_classes;
    SplitCandidate best;
    int visited = 0, non_constant = 0;
    for (FeatureDraw draw(nd.seed, g_.d);
         !draw.done() && (visited < g_.mtry || non_constant == 0);) {
      const int f = draw.next();
      ++visited;
      // the feature's class histogram over the node (only the bins it touches)
      const uint8_t* col = g_.binned + f * g_.n;
      touched_.clear();
      for (int64_t r = nd.begin; r < nd.end; ++r) {
        const int64_t row = rows_[r];
        const int b = col[row];
        if (cnt_[b]++ == 0) touched_.push_back(b);
        hist_[b * C + g_.y[row]] += s_.draws[row];
      }
      if (touched_.size() > 1) {
        ++non_constant;
        std::sort(touched_.begin(), touched_.end());
        best_bin_split(g_.crit, hist_.data(), cnt_.data(), touched_.data(),
                       static_cast<int>(touched_.size()), C, s_.cw.data(), nd.draws.data(),
                       nd.end - nd.begin, g_.cfg->min_samples_leaf, f, scratch_.data(), best);
      }
      for (int b : touched_) {
        cnt_[b] = 0;
        std::fill_n(hist_.begin() + b * C, C, 0);
      }
    }
    return best;
  }

  const GrowContext& g_;
  const TreeSample& s_;
  std::vector<int64_t> rows_;
  std::vector<int64_t> hist_, cnt_;
  std::vector<int> touched_;
  std::vector<double> scratch_;
};

}  // namespace

std::unique_ptr<Splitter> make_cpu_splitter(const GrowContext& g, const TreeSample& s) {
  return std::make_unique<CpuSplitter>(g, s);
}

#ifdef HP_WITH_CUDA
namespace {

// Row slots of the trees grown together on the GPU (two int32 copies of rows and draws each:
// 1 GiB at this budget).
constexpr int64_t kGpuSlots = int64_t{1} << 26;

class GpuSplitter final : public Splitter {
 public:
  GpuSplitter(const GrowContext& g, const std::vector<const TreeSample*>& samples, int device)
      : g_(g) {
    const int C = g.n_classes;
    std::vector<int32_t> rows, draws;
    std::vector<double> cw;
    for (const TreeSample* s : samples) {
      for (int64_t r : s->rows) {
        rows.push_back(static_cast<int32_t>(r));
        draws.push_back(s->draws[r]);
      }
      cw.insert(cw.end(), s->cw.begin(), s->cw.begin() + C);
    }
    cuda::ForestData data;
    data.binned = g.binned;
    data.n = g.n;
    data.d = g.d;
    data.y = g.y;
    data.n_classes = C;
    data.slot_rows = rows.data();
    data.slot_draws = draws.data();
    data.slots = static_cast<int64_t>(rows.size());
    data.tree_cw = cw.data();
    data.n_trees = static_cast<int>(samples.size());
    data.crit = g.crit;
    data.min_samples_leaf = g.cfg->min_samples_leaf;
    dev_ = std::make_unique<cuda::ForestHistogram>(data, device);
  }

  void split(std::vector<LevelNode*>& nodes) override {
    // The first max_features features of every node; then, for the nodes where all of them
    // were constant, the rest in draw order, of which the first non-constant one decides.
    std::vector<LevelNode*> all_constant;
    search(nodes, false, all_constant);
    std::vector<LevelNode*> none;
    if (!all_constant.empty() && g_.mtry < g_.d) search(all_constant, true, none);
    std::vector<cuda::ForestSplit> splits;
    for (const LevelNode* nd : nodes) {
      if (nd->split.feature < 0) continue;
      splits.push_back({nd->begin, nd->end, nd->split.n_left, nd->split.feature, nd->split.bin});
    }
    if (!splits.empty()) dev_->partition(splits);
  }

 private:
  void search(const std::vector<LevelNode*>& nodes, bool rest,
              std::vector<LevelNode*>& all_constant) {
    const int C = g_.n_classes;
    std::vector<cuda::ForestNode> desc(nodes.size());
    std::vector<int32_t> features;
    std::vector<double> draws;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const LevelNode& nd = *nodes[i];
      FeatureDraw draw(nd.seed, g_.d);
      desc[i].begin = nd.begin;
      desc[i].end = nd.end;
      desc[i].tree = nd.tree;
      desc[i].feat_begin = static_cast<int32_t>(features.size());
      for (int v = 0; !draw.done() && (rest || v < g_.mtry); ++v) {
        const int f = draw.next();
        if (!rest || v >= g_.mtry) features.push_back(f);
      }
      desc[i].feat_end = static_cast<int32_t>(features.size());
      desc[i].first_only = rest ? 1 : 0;
      draws.insert(draws.end(), nd.draws.begin(), nd.draws.end());
    }
    std::vector<cuda::ForestNodeResult> res;
    std::vector<double> left;
    dev_->search(desc, features, draws, res, left);
    for (size_t i = 0; i < nodes.size(); ++i) {
      nodes[i]->split = res[i].best;
      nodes[i]->left_draws.assign(left.begin() + static_cast<int64_t>(i) * C,
                                  left.begin() + static_cast<int64_t>(i + 1) * C);
      if (res[i].non_constant == 0) all_constant.push_back(nodes[i]);
    }
  }

  const GrowContext& g_;
  std::unique_ptr<cuda::ForestHistogram> dev_;
};

}  // namespace

void grow_forest_gpu(const GrowContext& g, const std::vector<double>& class_weight, int device,
                     std::vector<Tree>& trees, std::vector<std::vector<double>>& importance,
                     Progress& progress) {
  const int T = g.cfg->n_estimators;
  trees.assign(T, Tree{});
  importance.assign(T, {});
  for (int first = 0; first < T;) {
    std::vector<TreeSample> group;
    int64_t slots = 0;
    while (first + static_cast<int>(group.size()) < T && (group.empty() || slots < kGpuSlots)) {
      group.push_back(sample_tree(*g.cfg, first + static_cast<int64_t>(group.size()), g.y, g.n,
                                  g.n_classes, class_weight));
      slots += static_cast<int64_t>(group.back().rows.size());
    }
    std::vector<const TreeSample*> ptrs;
    std::vector<int64_t> root_begin;
    int64_t begin = 0;
    for (const TreeSample& s : group) {
      ptrs.push_back(&s);
      root_begin.push_back(begin);
      begin += static_cast<int64_t>(s.rows.size());
    }
    GpuSplitter splitter(g, ptrs, device);
    std::vector<Tree> grown;
    std::vector<std::vector<double>> imp;
    grow_trees(g, ptrs, root_begin, splitter, grown, imp);
    for (size_t i = 0; i < group.size(); ++i) {
      trees[first + i] = std::move(grown[i]);
      importance[first + i] = std::move(imp[i]);
      progress.advance();
    }
    first += static_cast<int>(group.size());
  }
}
#endif

}  // namespace hptrain::baselines
