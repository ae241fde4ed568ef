// Random forest after scikit-learn's RandomForestClassifier (sklearn/ensemble/_forest.py,
// sklearn/tree/_tree.pyx, _splitter.pyx), with histogram split search on quantised features.
#include "hptrain/baselines/random_forest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <sstream>

#include "baselines/forest_build.h"
#include "baselines/internal.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/progress.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/forest.h"
#endif

namespace hptrain::baselines {

namespace {
constexpr int64_t kPredictBlock = 256;  // rows per prediction task
}  // namespace

std::string MaxFeatures::str() const {
  if (rule == "fraction" || rule == "count") {
    std::ostringstream o;
    o << value;
    return o.str();
  }
  return rule;
}

int MaxFeatures::resolve(int64_t d) const {
  // ref: sklearn/tree/_classes.py BaseDecisionTree.fit, max_features
  int64_t m = d;
  if (rule == "sqrt") m = static_cast<int64_t>(std::sqrt(static_cast<double>(d)));
  if (rule == "log2") m = static_cast<int64_t>(std::log2(static_cast<double>(d)));
  if (rule == "fraction") m = static_cast<int64_t>(value * static_cast<double>(d));
  if (rule == "count") {
    m = static_cast<int64_t>(value);
    if (m > d) {
      throw ConfigError("rf: max_features = " + str() + " exceeds the " + std::to_string(d) +
                        " features of the data");
    }
  }
  return static_cast<int>(std::max<int64_t>(1, m));
}

std::pair<std::string, std::string> ForestConfig::problem() const {
  if (n_estimators < 1) return {"n_estimators", std::to_string(n_estimators) + ": must be >= 1"};
  if (criterion != "gini" && criterion != "entropy") {
    return {"criterion", "'" + criterion + "': expected gini or entropy"};
  }
  if (max_depth && *max_depth < 1) {
    return {"max_depth", std::to_string(*max_depth) + ": must be >= 1 (or none)"};
  }
  if (min_samples_split < 2) {
    return {"min_samples_split", std::to_string(min_samples_split) + ": must be >= 2"};
  }
  if (min_samples_leaf < 1) {
    return {"min_samples_leaf", std::to_string(min_samples_leaf) + ": must be >= 1"};
  }
  const auto& mf = max_features;
  if (mf.rule == "fraction" && !(mf.value > 0 && mf.value <= 1)) {
    return {"max_features", mf.str() + ": a fraction must be in (0, 1]"};
  }
  if (mf.rule == "count" && !(mf.value >= 1)) {
    return {"max_features", mf.str() + ": a count must be >= 1"};
  }
  if (mf.rule != "sqrt" && mf.rule != "log2" && mf.rule != "all" && mf.rule != "fraction" &&
      mf.rule != "count") {
    return {"max_features", "'" + mf.rule + "': expected sqrt, log2, all, a fraction or a count"};
  }
  if (class_weight != "none" && class_weight != "balanced" &&
      class_weight != "balanced_subsample") {
    return {"class_weight",
            "'" + class_weight + "': expected none, balanced or balanced_subsample"};
  }
  if (n_bins < 2 || n_bins > 256)
    return {"n_bins", std::to_string(n_bins) + ": must be in [2, 256]"};
  if (n_threads < 0) return {"n_threads", std::to_string(n_threads) + ": must be >= 0"};
  if (!valid_device(device)) return {"device", "'" + device + "': " + kDeviceChoices};
  return {};
}

void ForestConfig::validate() const {
  const auto p = problem();
  if (!p.first.empty()) throw ConfigError("rf: " + p.first + " = " + p.second);
}

void from_toml(const config::Section& s, ForestConfig& cfg) {
  s.get("n_estimators", cfg.n_estimators);
  s.get_choice("criterion", cfg.criterion, {"gini", "entropy"});
  double num = 0;
  std::string word;
  switch (get_mixed(s, "max_depth", num, word, {"none"}, "an integer >= 1 or \"none\"")) {
    case ValueKind::kInteger:
      s.require("max_depth", num >= 1 && num <= 1e9, "must be >= 1 (or \"none\")");
      cfg.max_depth = static_cast<int>(num);
      break;
    case ValueKind::kNumber:
      s.require("max_depth", false, "expected an integer >= 1 or \"none\"");
      break;
    case ValueKind::kWord:
      cfg.max_depth.reset();
      break;
    case ValueKind::kAbsent:
      break;
  }
  s.get("min_samples_split", cfg.min_samples_split);
  s.get("min_samples_leaf", cfg.min_samples_leaf);
  switch (get_mixed(s, "max_features", num, word, {"sqrt", "log2", "all"},
                    "\"sqrt\", \"log2\", \"all\", a fraction in (0, 1] or a count >= 1")) {
    case ValueKind::kInteger:
      cfg.max_features = {"count", num};
      break;
    case ValueKind::kNumber:
      cfg.max_features = {"fraction", num};
      break;
    case ValueKind::kWord:
      cfg.max_features = {word, 0};
      break;
    case ValueKind::kAbsent:
      break;
  }
  s.get("bootstrap", cfg.bootstrap);
  s.get_choice("class_weight", cfg.class_weight, {"none", "balanced", "balanced_subsample"});
  s.get("seed", cfg.seed);
  s.get("n_bins", cfg.n_bins);
  s.get("n_threads", cfg.n_threads);
  s.get("device", cfg.device);
  require_valid(s, cfg.problem());
}

nlohmann::json to_json(const ForestConfig& c) {
  nlohmann::json j = {{"n_estimators", c.n_estimators},
                      {"criterion", c.criterion},
                      {"min_samples_split", c.min_samples_split},
                      {"min_samples_leaf", c.min_samples_leaf},
                      {"bootstrap", c.bootstrap},
                      {"class_weight", c.class_weight},
                      {"seed", c.seed},
                      {"n_bins", c.n_bins},
                      {"n_threads", c.n_threads},
                      {"device", c.device}};
  j["max_depth"] = c.max_depth ? nlohmann::json(*c.max_depth) : nlohmann::json("none");
  if (c.max_features.rule == "count") {
    j["max_features"] = static_cast<int64_t>(c.max_features.value);
  } else if (c.max_features.rule == "fraction") {
    j["max_features"] = c.max_features.value;
  } else {
    j["max_features"] = c.max_features.rule;
  }
  return j;
}

namespace {
ForestConfig forest_config_from_json(const nlohmann::json& j) {
  ForestConfig c;
  c.n_estimators = j.at("n_estimators").get<int>();
  c.criterion = j.at("criterion").get<std::string>();
  if (!j.at("max_depth").is_string()) c.max_depth = j.at("max_depth").get<int>();
  c.min_samples_split = j.at("min_samples_split").get<int>();
  c.min_samples_leaf = j.at("min_samples_leaf").get<int>();
  const auto& mf = j.at("max_features");
  if (mf.is_string()) {
    c.max_features = {mf.get<std::string>(), 0};
  } else if (mf.is_number_integer()) {
    c.max_features = {"count", mf.get<double>()};
  } else {
    c.max_features = {"fraction", mf.get<double>()};
  }
  c.bootstrap = j.at("bootstrap").get<bool>();
  c.class_weight = j.at("class_weight").get<std::string>();
  c.seed = j.at("seed").get<int64_t>();
  c.n_bins = j.at("n_bins").get<int>();
  c.n_threads = j.at("n_threads").get<int>();
  c.device = j.value("device", c.device);  // absent from files of earlier versions
  return c;
}

}  // namespace

const float* Tree::leaf(const float* x) const {
  int32_t node = 0;
  while (feature[node] >= 0) node = x[feature[node]] <= threshold[node] ? left[node] : right[node];
  return value.data() + static_cast<int64_t>(node) * n_classes;
}

int Tree::depth() const {
  std::vector<int> depth(feature.size(), 0);
  int deepest = 0;
  for (size_t i = 0; i < feature.size(); ++i) {  // children are created after their parent
    deepest = std::max(deepest, depth[i]);
    if (feature[i] >= 0) depth[left[i]] = depth[right[i]] = depth[i] + 1;
  }
  return deepest;
}

RandomForestClassifier::RandomForestClassifier(ForestConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
}

void RandomForestClassifier::fit(const float* X, int64_t n, int64_t d, const int32_t* y,
                                 int n_classes) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int64_t> counts = check_training_data("rf", X, n, d, y, n_classes);
  const int mtry = cfg_.max_features.resolve(d);
  HP_LOG_INFO(
      "rf fit: {} trees, criterion {}, max_features {} = {} per node, bootstrap {}, "
      "class_weight {}, {} bins",
      cfg_.n_estimators, cfg_.criterion, cfg_.max_features.str(), mtry, cfg_.bootstrap,
      cfg_.class_weight, cfg_.n_bins);
  n_classes_ = n_classes;
  d_ = d;
  const auto edges = fit_bin_edges(X, n, d, cfg_.n_bins);
  std::vector<uint8_t> binned(static_cast<size_t>(n * d));
  quantise(edges, X, n, d, binned.data());
  const std::vector<BinRange> ranges = bin_ranges(edges, X, n, d, binned.data());
  const Criterion crit = cfg_.criterion == "gini" ? Criterion::gini : Criterion::entropy;
  const std::vector<double> cw = cfg_.class_weight == "balanced"
                                     ? balanced_weights(counts)
                                     : std::vector<double>(n_classes, 1.0);
  const int T = cfg_.n_estimators;
  GrowContext g;
  g.cfg = &cfg_;
  g.crit = crit;
  g.mtry = mtry;
  g.n_classes = n_classes;
  g.n = n;
  g.d = d;
  g.binned = binned.data();
  g.ranges = &ranges;
  g.y = y;
  trees_.assign(T, Tree{});
  std::vector<std::vector<double>> tree_imp(T);
  int device = resolve_device("rf", cfg_.device);
#ifdef HP_WITH_CUDA
  if (device >= 0 && n_classes > cuda::kForestMaxClasses) {
    HP_LOG_WARN("rf fit: {} classes, more than the GPU builder's {}; building on the CPU",
                n_classes, cuda::kForestMaxClasses);
    device = -1;
  }
#endif
  const int threads = resolve_threads(cfg_.n_threads);
  Progress progress("rf fit", T, "trees");
  if (device < 0) {
    std::mutex progress_mutex;
    parallel_for(T, threads, [&](int64_t t) {
      const TreeSample s = sample_tree(cfg_, t, y, n, n_classes, cw);
      std::vector<Tree> one;
      std::vector<std::vector<double>> imp;
      grow_trees(g, {&s}, {0}, *make_cpu_splitter(g, s), one, imp);
      trees_[t] = std::move(one[0]);
      tree_imp[t] = std::move(imp[0]);
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress.advance();
    });
  } else {
#ifdef HP_WITH_CUDA
    grow_forest_gpu(g, cw, device, trees_, tree_imp, progress);
#endif
  }
  progress.finish();
  // ref: sklearn/ensemble/_forest.py feature_importances_: per-tree normalised MDI of the trees
  // that split, averaged, normalised again.
  importances_.assign(d, 0.0);
  int used = 0;
  for (int t = 0; t < T; ++t) {
    const double total = std::accumulate(tree_imp[t].begin(), tree_imp[t].end(), 0.0);
    if (trees_[t].size() <= 1) continue;
    ++used;
    for (int64_t f = 0; f < d && total > 0; ++f) importances_[f] += tree_imp[t][f] / total;
  }
  const double sum = std::accumulate(importances_.begin(), importances_.end(), 0.0);
  for (double& v : importances_) v = used > 0 && sum > 0 ? v / sum : 0.0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t nodes = 0;
  for (const auto& t : trees_) nodes += t.size();
  HP_LOG_INFO("rf fit: {} rows, {} features, {} trees, {} nodes, {:.3f} s on {}", n, d, T, nodes,
              secs, device < 0 ? std::to_string(threads) + " CPU threads" : device_label(device));
}

void RandomForestClassifier::predict_proba(const float* X, int64_t n, float* out) const {
  if (n_classes_ == 0) throw InputError("rf predict_proba: the model is not fitted");
  check_finite(X, n, d_, "rf predict");
  const int64_t blocks = (n + kPredictBlock - 1) / kPredictBlock;
  const int C = n_classes_;
  parallel_for(blocks, resolve_threads(cfg_.n_threads), [&](int64_t b) {
    std::vector<double> acc(C);
    for (int64_t r = b * kPredictBlock; r < std::min(n, (b + 1) * kPredictBlock); ++r) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (const Tree& t : trees_) {
        const float* v = t.leaf(X + r * d_);
        for (int k = 0; k < C; ++k) acc[k] += v[k];
      }
      for (int k = 0; k < C; ++k) out[r * C + k] = static_cast<float>(acc[k] / trees_.size());
    }
  });
}

nlohmann::json RandomForestClassifier::info() const {
  nlohmann::json j = {{"model", "rf"}, {"config", to_json(cfg_)}};
  if (n_classes_ == 0) return j;
  int64_t nodes = 0, leaves = 0;
  int deepest = 0;
  for (const auto& t : trees_) {
    nodes += t.size();
    leaves += std::count(t.feature.begin(), t.feature.end(), -1);
    deepest = std::max(deepest, t.depth());
  }
  j["n_trees"] = trees_.size();
  j["n_nodes"] = nodes;
  j["n_leaves"] = leaves;
  j["max_depth_reached"] = deepest;
  j["n_features"] = d_;
  j["feature_importances"] = importances_;
  return j;
}

void RandomForestClassifier::save(const std::filesystem::path& path) const {
  if (n_classes_ == 0) throw InputError("rf save: the model is not fitted");
  std::vector<int64_t> offset{0};
  Tree all;
  for (const auto& t : trees_) {
    offset.push_back(offset.back() + t.size());
    all.feature.insert(all.feature.end(), t.feature.begin(), t.feature.end());
    all.threshold.insert(all.threshold.end(), t.threshold.begin(), t.threshold.end());
    all.left.insert(all.left.end(), t.left.begin(), t.left.end());
    all.right.insert(all.right.end(), t.right.begin(), t.right.end());
    all.value.insert(all.value.end(), t.value.begin(), t.value.end());
    all.n_samples.insert(all.n_samples.end(), t.n_samples.begin(), t.n_samples.end());
  }
  const int64_t N = offset.back();
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create(tmp);
    write_header(f, "rf", n_classes_, d_, to_json(cfg_).dump());
    f.set_attr("/", "n_trees", static_cast<int64_t>(trees_.size()));
    const h5::Storage z{{std::min<int64_t>(N, 65536)}, h5::Compression::gzip(4)};
    f.write("tree_offset", offset.data(), {static_cast<int64_t>(offset.size())});
    f.write("feature", all.feature.data(), {N}, z);
    f.write("threshold", all.threshold.data(), {N}, z);
    f.write("left", all.left.data(), {N}, z);
    f.write("right", all.right.data(), {N}, z);
    f.write("value", all.value.data(), {N, n_classes_},
            {{std::min<int64_t>(N, 65536), n_classes_}, h5::Compression::gzip(4)});
    f.write("n_node_samples", all.n_samples.data(), {N}, z);
    f.write("feature_importances", importances_.data(), {d_});
    f.close();
  });
}

std::unique_ptr<RandomForestClassifier> RandomForestClassifier::load(const h5::File& f) {
  const std::string file = f.path().string();
  ForestConfig c;
  try {
    c = forest_config_from_json(nlohmann::json::parse(f.attr_string("/", "config")));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file + ": attribute config is not a forest's hyper-parameters: " + e.what());
  }
  auto m = std::make_unique<RandomForestClassifier>(c);
  m->n_classes_ = static_cast<int>(f.attr_int("/", "n_classes"));
  m->d_ = f.attr_int("/", "n_features");
  const auto offset = f.read_int64s("tree_offset");
  const auto feature = f.read_ints("feature");
  const auto threshold = f.read_floats("threshold");
  const auto left = f.read_ints("left");
  const auto right = f.read_ints("right");
  const auto value = f.read_floats("value");
  const auto n_samples = f.read_int64s("n_node_samples");
  m->importances_ = f.read_doubles("feature_importances");
  const int64_t N = static_cast<int64_t>(feature.size());
  const int64_t C = m->n_classes_;
  if (offset.empty() || offset.back() != N || static_cast<int64_t>(threshold.size()) != N ||
      static_cast<int64_t>(left.size()) != N || static_cast<int64_t>(right.size()) != N ||
      static_cast<int64_t>(value.size()) != N * C ||
      static_cast<int64_t>(m->importances_.size()) != m->d_) {
    throw InputError(file + ": forest datasets have inconsistent sizes");
  }
  for (size_t t = 0; t + 1 < offset.size(); ++t) {
    Tree tr;
    tr.n_classes = m->n_classes_;
    const int64_t a = offset[t], b = offset[t + 1];
    tr.feature.assign(feature.begin() + a, feature.begin() + b);
    tr.threshold.assign(threshold.begin() + a, threshold.begin() + b);
    tr.left.assign(left.begin() + a, left.begin() + b);
    tr.right.assign(right.begin() + a, right.begin() + b);
    tr.value.assign(value.begin() + a * C, value.begin() + b * C);
    tr.n_samples.assign(n_samples.begin() + a, n_samples.begin() + b);
    for (int64_t i = 0; i < b - a; ++i) {
      const bool ok =
          tr.feature[i] < 0 || (tr.feature[i] < m->d_ && tr.left[i] > i && tr.left[i] < b - a &&
                                tr.right[i] > i && tr.right[i] < b - a);
      if (!ok)
        throw InputError(file + ": tree " + std::to_string(t) + " node " + std::to_string(i) +
                         " is malformed");
    }
    m->trees_.push_back(std::move(tr));
  }
  return m;
}

}  // namespace hptrain::baselines
