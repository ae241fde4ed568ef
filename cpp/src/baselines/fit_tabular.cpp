// The library side of `hptrain fit-tabular`.
#include "hptrain/baselines/fit_tabular.h"

#include <algorithm>
#include <chrono>

#include "hptrain/baselines/classifier.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/metrics/metrics.h"
#include "hptrain/toml_config.h"

namespace hptrain::baselines {

TabularData read_tabular(const std::filesystem::path& path) {
  const h5::File f = h5::File::open_read(path);
  for (const char* name : {"X", "y"}) {
    if (!f.has(name)) throw InputError(path.string() + ": no dataset '" + name + "'");
  }
  TabularData t;
  std::vector<int64_t> shape;
  t.X = f.read_floats("X", &shape);
  if (shape.size() != 2) {
    throw InputError(path.string() + ": X must be 2-D [n, d], has " + std::to_string(shape.size()) +
                     " dimensions");
  }
  t.n = shape[0];
  t.d = shape[1];
  t.y = f.read_ints("y");
  if (static_cast<int64_t>(t.y.size()) != t.n) {
    throw InputError(path.string() + ": y has " + std::to_string(t.y.size()) +
                     " values but X has " + std::to_string(t.n) + " rows");
  }
  for (int64_t i = 0; i < t.n; ++i) {
    if (t.y[i] < 0) {
      throw InputError(path.string() + ": y[" + std::to_string(i) +
                       "] = " + std::to_string(t.y[i]) + ": labels must be >= 0");
    }
  }
  return t;
}

nlohmann::json run_fit_tabular(const FitTabularOptions& opts) {
  toml::table root;
  root.insert("model", toml::table{{"type", opts.model}});
  for (const auto& kv : opts.set) {
    config::apply_override(root, kv.rfind("model.", 0) == 0 ? kv : "model." + kv);
  }
  const config::Section top(&root, "--set");
  auto clf = make_classifier(top.section("model"));
  top.check_unknown();

  const TabularData train = read_tabular(opts.train);
  const TabularData test = read_tabular(opts.test);
  if (test.d != train.d) {
    throw InputError(opts.test.string() + ": X has " + std::to_string(test.d) +
                     " columns but the training X has " + std::to_string(train.d));
  }
  int k = 0;
  for (int32_t v : train.y) k = std::max(k, v + 1);
  for (int32_t v : test.y) k = std::max(k, v + 1);

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  clf->fit(train.X.data(), train.n, train.d, train.y.data(), k);
  const auto t1 = clock::now();
  std::vector<int32_t> pred(test.n);
  clf->predict(test.X.data(), test.n, pred.data());
  const auto t2 = clock::now();

  const std::vector<int64_t> labels(test.y.begin(), test.y.end());
  const std::vector<int64_t> predicted(pred.begin(), pred.end());
  const auto cm = metrics::confusion_matrix(labels, predicted, k);
  // accuracy and macro-F1 of the predictions (the SVM votes, as sklearn's SVC.predict), over
  // the classes present in labels or predictions (sklearn's default)
  int64_t correct = 0;
  double f1_sum = 0;
  int present = 0;
  for (int c = 0; c < k; ++c) {
    int64_t tp = cm[c][c], row = 0, col = 0;
    for (int o = 0; o < k; ++o) {
      row += cm[c][o];
      col += cm[o][c];
    }
    correct += tp;
    if (row + col == 0) continue;
    ++present;
    f1_sum += 2.0 * static_cast<double>(tp) / static_cast<double>(row + col);
  }
  nlohmann::json roc_auc = nullptr;
  try {
    std::vector<float> proba(static_cast<size_t>(test.n * k));
    clf->predict_proba(test.X.data(), test.n, proba.data());
    std::vector<std::string> names;
    for (int c = 0; c < k; ++c) names.push_back(std::to_string(c));
    const auto m = metrics::evaluate(labels, proba, names);
    if (m.roc_auc) roc_auc = *m.roc_auc;
  } catch (const InputError& e) {
    HP_LOG_INFO("fit-tabular: no ROC-AUC: {}", e.what());
  }
  if (!opts.out.empty()) clf->save(opts.out);

  const nlohmann::json info = clf->info();
  return {{"model", opts.model},
          {"config", info.at("config")},
          {"n_train", train.n},
          {"n_test", test.n},
          {"n_features", train.d},
          {"n_classes", k},
          {"accuracy", test.n > 0 ? static_cast<double>(correct) / test.n : 0.0},
          {"macro_f1", present > 0 ? f1_sum / present : 0.0},
          {"roc_auc", roc_auc},
          {"fit_s", std::chrono::duration<double>(t1 - t0).count()},
          {"predict_s", std::chrono::duration<double>(t2 - t1).count()},
          {"info", info}};
}

}  // namespace hptrain::baselines
