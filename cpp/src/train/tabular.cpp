// The SVM / random-forest path of a run: pooled statistics in (the classifiers standardise
// them as configured), hp_baselines classifiers, the same metric files and plots as LibTorch.
#include <chrono>

#include "hptrain/baselines/classifier.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "train/run_common.h"

namespace hptrain::train::detail {
namespace {

struct Table {
  std::vector<float> x;  // [n, d]
  int64_t n = 0, d = 0;
};

Table read_stats(const data::ShardDataset& ds) {
  std::vector<int64_t> all(ds.size());
  for (int64_t i = 0; i < ds.size(); ++i) all[i] = i;
  auto b = ds.get(all, data::Input::stats);
  Table t;
  t.n = ds.size();
  t.d = t.n > 0 ? static_cast<int64_t>(b.x.size()) / t.n : 0;
  t.x = std::move(b.x);
  return t;
}

Probabilities evaluate_with(
    const std::map<std::string, std::unique_ptr<baselines::TabularClassifier>>& models,
    const data::ShardDataset& ds) {
  const Table t = read_stats(ds);
  Probabilities out;
  for (const auto& [task, clf] : models) {
    auto& probs = out[task];
    probs.resize(t.n * ds.classes(task).size());
    clf->predict_proba(t.x.data(), t.n, probs.data());
  }
  return out;
}

}  // namespace

RunResult run_tabular(const ExperimentConfig& cfg, const std::filesystem::path& shards_dir) {
  const data::ShardDataset train(shards_dir, "train");
  const data::ShardDataset validation(shards_dir, "validation");
  const data::ShardDataset test(shards_dir, "test");
  const auto tasks = resolve_tasks(cfg, train);
  const auto root = toml::parse(cfg.resolved, cfg.file.string());
  const config::Section model(root.get_as<toml::table>("model"), cfg.file.string(), "model");

  const Table x = read_stats(train);

  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, std::unique_ptr<baselines::TabularClassifier>> models;
  std::vector<std::filesystem::path> files;
  nlohmann::json info = nlohmann::json::object();
  for (const auto& task : tasks) {
    auto clf = baselines::make_classifier(model);
    const auto& labels = train.labels(task);
    const std::vector<int32_t> y(labels.begin(), labels.end());
    HP_LOG_INFO("{}: fitting {} on {} x {} stats for '{}'", cfg.name, clf->name(), x.n, x.d, task);
    clf->fit(x.x.data(), x.n, x.d, y.data(), static_cast<int>(train.classes(task).size()));
    files.push_back(cfg.output_dir / ("model_" + task + ".h5"));
    clf->save(files.back());
    info[task] = clf->info();
    models[task] = std::move(clf);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::write_text(cfg.output_dir / "model_info.json", info.dump(1) + "\n");
  write_run_files(cfg.output_dir, cfg, dataset_classes(train, tasks), files);

  const auto val = score(validation, evaluate_with(models, validation));
  double val_f1 = 0;
  for (const auto& [task, m] : val) val_f1 += m.f1_macro / static_cast<double>(val.size());
  HP_LOG_INFO("{}: validation macro-F1 {:.4f}", cfg.name, val_f1);

  auto header = run_header(cfg, "test", "cpu");
  header["train_seconds"] = seconds;
  header["validation_f1_macro"] = val_f1;
  header["train_examples"] = train.size();
  RunResult r;
  r.run_dir = cfg.output_dir;
  r.metrics = write_results(cfg.output_dir, header, test, evaluate_with(models, test));
  return r;
}

std::unique_ptr<baselines::TabularClassifier> load_tabular(const std::filesystem::path& run,
                                                           const std::string& task,
                                                           size_t n_classes) {
  const std::string name = "model_" + task + ".h5";
  check_run_file(run, name);
  auto clf = baselines::load_classifier(run / name);
  if (clf->n_classes() < 0 || static_cast<size_t>(clf->n_classes()) != n_classes) {
    throw InputError("'" + (run / name).string() + "' answers " + std::to_string(clf->n_classes()) +
                     " classes, classes.json names " + std::to_string(n_classes) + " for task '" +
                     task + "'");
  }
  return clf;
}

Probabilities evaluate_tabular(const std::filesystem::path& run_dir, const ExperimentConfig& cfg,
                               const data::ShardDataset& ds) {
  std::map<std::string, std::unique_ptr<baselines::TabularClassifier>> models;
  for (const auto& [task, names] :
       read_run_classes(run_dir, cfg, resolve_tasks(cfg, ds), nullptr)) {
    if (names != ds.classes(task)) {
      throw InputError("run '" + run_dir.string() + "' was trained with other classes for task '" +
                       task + "' than this dataset has");
    }
    models[task] = load_tabular(run_dir, task, names.size());
  }
  return evaluate_with(models, ds);
}

}  // namespace hptrain::train::detail
