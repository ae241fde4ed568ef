// Internals of a run shared by the LibTorch path (trainer.cpp) and the SVM/RF path
// (tabular.cpp): task selection, the run folder's result files, the tabular training.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/data/dataset.h"
#include "hptrain/metrics/metrics.h"
#include "hptrain/train/experiment.h"
#include "hptrain/train/run.h"

namespace hptrain::train::detail {

// The experiment's tasks (all of the dataset's when it names none); ConfigError naming
// experiment.tasks for a task the dataset does not have.
std::vector<std::string> resolve_tasks(const ExperimentConfig& cfg, const data::ShardDataset& ds);

// The experiment a run folder was made with (its experiment.toml), with train.batch_size
// replaced by `batch_size` when it is > 0 (evaluate's and predict's --batch-size); InputError
// naming the folder when it is not a run folder, ConfigError for a batch size < 0.
ExperimentConfig load_run(const std::filesystem::path& run, int64_t batch_size = 0);

// Writes <dir>/classes.json: each task's class names in the order of the model's outputs.
void write_classes(const std::filesystem::path& dir, const data::ShardDataset& ds,
                   const std::vector<std::string>& tasks);

// Run information at the top of metrics.json: experiment, model, input, dataset, split, device.
nlohmann::json run_header(const ExperimentConfig& cfg, const std::string& split,
                          const std::string& device);

// Writes metrics.json (header + tasks), confusion_<task>.csv, roc_<task>.csv and the
// confusion/ROC plots into `dir`; returns the metrics.json content.
nlohmann::json write_results(const std::filesystem::path& dir, nlohmann::json header,
                             const std::map<std::string, metrics::TaskMetrics>& tasks);

// The whole run for model.type svm | rf: one classifier per task on the stats input.
RunResult run_tabular(const ExperimentConfig& cfg, const std::filesystem::path& shards_dir);

// Metrics of a tabular run's saved classifiers on `ds`.
std::map<std::string, metrics::TaskMetrics> evaluate_tabular(const std::filesystem::path& run_dir,
                                                             const ExperimentConfig& cfg,
                                                             const data::ShardDataset& ds);

}  // namespace hptrain::train::detail
