// Tabular classifiers on pooled statistical features (SVM, random forest): the interface the
// training engine codes against. X is [n, d] row-major float32; labels are in [0, n_classes).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "hptrain/toml_config.h"

namespace hptrain::baselines {

class TabularClassifier {
 public:
  virtual ~TabularClassifier() = default;
  virtual std::string name() const = 0;  // "svm" | "rf"
  // X: [n, d] row-major float32; y in [0, n_classes). Throws InputError on unusable data
  // (NaN/inf, fewer than two classes present, every feature constant, labels out of range).
  virtual void fit(const float* X, int64_t n, int64_t d, const int32_t* y, int n_classes) = 0;
  // out: [n, n_classes], rows sum to one. X must have the d columns seen by fit.
  virtual void predict_proba(const float* X, int64_t n, float* out) const = 0;
  // Class of each row (out: [n]). The random forest takes the argmax of predict_proba; the SVM
  // votes over its one-vs-one decision values, as LIBSVM and scikit-learn's SVC.predict do.
  virtual void predict(const float* X, int64_t n, int32_t* out) const;
  virtual void save(const std::filesystem::path& path) const = 0;  // HDF5 (atomic)
  virtual nlohmann::json info() const = 0;  // hyper-parameters, support vectors, importances...
  // Sizes seen by fit (or read by load_classifier); 0 before fit.
  virtual int n_classes() const = 0;
  virtual int64_t n_features() const = 0;
};

// Reads [model] (type = "svm" | "rf" and their hyper-parameters; errors name file/line/key).
// The caller runs check_unknown() on the root afterwards.
std::unique_ptr<TabularClassifier> make_classifier(const config::Section& model);
// Restores a model written by save(); it predicts exactly as the saved one.
std::unique_ptr<TabularClassifier> load_classifier(const std::filesystem::path& path);

}  // namespace hptrain::baselines
