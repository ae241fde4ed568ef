#include "train/run_common.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/files.h"
#include "hptrain/metrics/plots.h"

namespace hptrain::train::detail {

std::vector<std::string> resolve_tasks(const ExperimentConfig& cfg, const data::ShardDataset& ds) {
  if (cfg.tasks.empty()) return ds.tasks();
  for (const auto& t : cfg.tasks) {
    if (std::find(ds.tasks().begin(), ds.tasks().end(), t) == ds.tasks().end()) {
      std::string valid;
      for (const auto& v : ds.tasks()) valid += (valid.empty() ? "" : ", ") + v;
      throw ConfigError(cfg.tasks_where + ": '" + t +
                        "' is not a task of the dataset (tasks: " + valid + ")");
    }
  }
  return cfg.tasks;
}

ExperimentConfig load_run(const std::filesystem::path& run, int64_t batch_size) {
  if (batch_size < 0) {
    throw ConfigError("batch size " + std::to_string(batch_size) + " must be > 0");
  }
  const auto saved = run / "experiment.toml";
  if (!std::filesystem::exists(saved)) {
    throw InputError("'" + run.string() + "' is not a run folder: no experiment.toml");
  }
  auto cfg = parse_experiment(fs::read_text(saved), saved);
  if (batch_size > 0) cfg.train.batch_size = batch_size;
  return cfg;
}

void write_classes(const std::filesystem::path& dir, const data::ShardDataset& ds,
                   const std::vector<std::string>& tasks) {
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& task : tasks) classes[task] = ds.classes(task);
  fs::write_text(dir / "classes.json", classes.dump(1) + "\n");
}

nlohmann::json run_header(const ExperimentConfig& cfg, const std::string& split,
                          const std::string& device) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"experiment", cfg.name},
          {"model", cfg.model.type},
          {"input", cfg.input},
          {"dataset", (cfg.shards.empty() ? cfg.dataset : cfg.shards).string()},
          {"split", split},
          {"device", device},
          {"seed", cfg.seed},
          {"created", when},
          {"hptrain_version", HP_VERSION}};
}

nlohmann::json write_results(const std::filesystem::path& dir, nlohmann::json header,
                             const std::map<std::string, metrics::TaskMetrics>& tasks) {
  for (const auto& [task, m] : tasks) {
    metrics::write_confusion_csv(dir / ("confusion_" + task + ".csv"), m);
    metrics::write_roc_csv(dir / ("roc_" + task + ".csv"), m);
    const std::string title =
        header.value("experiment", "") + ": " + task + " (" + header.value("split", "") + ")";
    metrics::plot_confusion(dir / ("confusion_" + task + ".png"), m, title);
    metrics::plot_roc(dir / ("roc_" + task + ".png"), m, title);
  }
  metrics::write_metrics_json(dir / "metrics.json", header, tasks);
  return nlohmann::json::parse(fs::read_text(dir / "metrics.json"));
}

}  // namespace hptrain::train::detail
