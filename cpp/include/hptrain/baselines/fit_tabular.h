// `hptrain fit-tabular`: fits an SVM or random forest on X [n, d] float32 / y [n] int read from
// HDF5, scores it on a test file (accuracy, macro-F1, ROC-AUC, fit time) and can save it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hptrain::baselines {

struct TabularData {
  std::vector<float> X;  // [n, d] row-major
  std::vector<int32_t> y;
  int64_t n = 0, d = 0;
};
// Reads datasets `X` [n, d] and `y` [n]; InputError names the file and what is wrong.
TabularData read_tabular(const std::filesystem::path& path);

struct FitTabularOptions {
  std::filesystem::path train, test;
  std::string model;             // "svm" | "rf"
  std::vector<std::string> set;  // "key=value" of [model] ("model." prefix optional)
  std::filesystem::path out;     // empty: do not save
};

// Fits on `train`, predicts `test`. Returns {model, config, n_train, n_test, n_features,
// n_classes, accuracy, macro_f1, roc_auc (null when undefined), fit_s, predict_s, info}.
// Class count = 1 + the largest label of either file.
nlohmann::json run_fit_tabular(const FitTabularOptions& opts);

}  // namespace hptrain::baselines
