// Random forest classifier as scikit-learn's RandomForestClassifier, with histogram split
// search on features quantised to <= 256 bins; trees grown level-wise, one per CPU thread or all
// together on the GPU (the same trees either way).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/baselines/classifier.h"
#include "hptrain/baselines/histogram.h"

namespace hptrain::h5 {
class File;
}

namespace hptrain::baselines {

// scikit-learn's `max_features`: "sqrt", "log2", "all" (sklearn None), a fraction in (0, 1]
// of the features, or a count >= 1.
struct MaxFeatures {
  std::string rule = "sqrt";  // "sqrt" | "log2" | "all" | "fraction" | "count"
  double value = 0;           // the fraction or the count
  std::string str() const;
  int resolve(int64_t d) const;  // features drawn per node, in [1, d]
};

// Hyper-parameters; names and defaults are scikit-learn's RandomForestClassifier except where
// noted.
struct ForestConfig {
  int n_estimators = 100;          // >= 1
  std::string criterion = "gini";  // "gini" | "entropy"
  std::optional<int> max_depth;    // none: grow until pure or too small (root depth 0)
  int min_samples_split = 2;       // >= 2
  int min_samples_leaf = 1;        // >= 1
  MaxFeatures max_features;
  bool bootstrap = true;
  std::string class_weight = "none";  // "none" | "balanced" | "balanced_subsample"
  int64_t seed = 0;                   // sklearn random_state
  int n_bins = 256;                   // hptrain: bins per feature, 2..256
  int n_threads = 0;                  // hptrain: worker threads, 0 = all cores
  // hptrain: "auto" (the GPU when gpu_available()), "cpu", "cuda" or "cuda:N"; both give the
  // same forest for the same seed
  std::string device = "auto";
  // The first invalid field and why ({"", ""} when valid); validate() throws it as ConfigError.
  std::pair<std::string, std::string> problem() const;
  void validate() const;
};
void from_toml(const config::Section& s, ForestConfig& cfg);
nlohmann::json to_json(const ForestConfig& cfg);

// One tree in flat arrays (node 0 is the root); feature -1 marks a leaf.
struct Tree {
  std::vector<int32_t> feature;
  std::vector<float> threshold;  // go left when x[feature] <= threshold
  std::vector<int32_t> left, right;
  std::vector<float> value;        // [nodes, n_classes]: weighted class frequencies, sum 1
  std::vector<int64_t> n_samples;  // distinct training rows reaching the node
  int n_classes = 0;
  int64_t size() const { return static_cast<int64_t>(feature.size()); }
  const float* leaf(const float* x) const;  // value row of the leaf x falls in
  int depth() const;
};

class RandomForestClassifier final : public TabularClassifier {
 public:
  explicit RandomForestClassifier(ForestConfig cfg = {});
  const ForestConfig& config() const { return cfg_; }

  std::string name() const override { return "rf"; }
  void fit(const float* X, int64_t n, int64_t d, const int32_t* y, int n_classes) override;
  void predict_proba(const float* X, int64_t n, float* out) const override;
  void save(const std::filesystem::path& path) const override;
  nlohmann::json info() const override;
  int n_classes() const override { return n_classes_; }
  int64_t n_features() const override { return d_; }

  const std::vector<Tree>& trees() const { return trees_; }
  // Mean decrease in impurity per feature, averaged over trees, summing to one (all zero
  // when no tree split).
  const std::vector<double>& feature_importances() const { return importances_; }

  static std::unique_ptr<RandomForestClassifier> load(const h5::File& f);

 private:
  ForestConfig cfg_;
  int n_classes_ = 0;
  int64_t d_ = 0;
  std::vector<Tree> trees_;
  std::vector<double> importances_;
};

}  // namespace hptrain::baselines
