// Internals of a run shared by the LibTorch path (trainer.cpp) and the SVM/RF path
// (tabular.cpp): task selection, the run folder's result files, the tabular training.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/baselines/classifier.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
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

// A run's tasks in the order of the model's outputs (heads, classifiers), each with its class
// names in the order of that output's columns.
using RunClasses = std::vector<std::pair<std::string, std::vector<std::string>>>;

// The dataset's classes of `tasks`, in that order.
RunClasses dataset_classes(const data::ShardDataset& ds, const std::vector<std::string>& tasks);

// The fingerprint of what a run's model is and what its outputs mean: every field of [model]
// but the files it starts from or loads (init, weights, encoder) and how it trains (init_parts,
// freeze_backbone, freeze_epochs, encoder_lr), data.input, and each task with its classes in
// order (16 hex digits). Recorded in run.json and inside every checkpoint; anything that
// disagrees with it is refused. tests/train/fingerprint_test.cpp pins the values of existing
// runs and fails when a [model] key the parser reads leaves it unchanged.
std::string run_fingerprint(const ExperimentConfig& cfg, const RunClasses& classes);

// The fingerprint of a dataset's [preprocess] and [features] (stream and threads aside): what
// the shards were made with and what predict applies to new recordings (16 hex digits).
std::string data_fingerprint(const data::DatasetConfig& dataset);

// InputError when `dataset` (the run's dataset TOML, as predict reads it now) no longer has the
// [preprocess] and [features] the run recorded in run.json (runs on data.shards record none).
void check_data_settings(const std::filesystem::path& run, const data::DatasetConfig& dataset,
                         const std::filesystem::path& toml);

// Writes <dir>/classes.json (each task's class names in output order) and <dir>/run.json (the
// fingerprint, the tasks in order, data_fingerprint of a data.dataset experiment's dataset, and
// checksums of `files`: model files written once, the SVM/forest classifiers). Returns the
// fingerprint.
std::string write_run_files(const std::filesystem::path& dir, const ExperimentConfig& cfg,
                            const RunClasses& classes,
                            const std::vector<std::filesystem::path>& files = {});

// The classes of `tasks` as the run recorded them (classes.json), in the order of the model's
// outputs (run.json's, which may differ from `tasks`'; InputError when the run was trained for
// other tasks), checked against run.json:
// InputError naming the file when either is missing or damaged, or when classes.json, [model]
// or data.input of experiment.toml no longer give the recorded fingerprint (edited, reordered,
// or a file of another run). `fingerprint` receives the run's.
RunClasses read_run_classes(const std::filesystem::path& run, const ExperimentConfig& cfg,
                            const std::vector<std::string>& tasks, std::string* fingerprint);

// Checks <run>/<name> against the checksum run.json recorded for it; InputError naming the file.
void check_run_file(const std::filesystem::path& run, const std::string& name);

// Run information at the top of metrics.json: experiment, model, input, dataset, split, device.
nlohmann::json run_header(const ExperimentConfig& cfg, const std::string& split,
                          const std::string& device);

// Each task's class probabilities for the examples of a split: [examples, classes] row-major, in
// the split's order, the columns in the order of ds.classes(task).
using Probabilities = std::map<std::string, std::vector<float>>;

// Each task's metrics: `probabilities` against ds's labels.
std::map<std::string, metrics::TaskMetrics> score(const data::ShardDataset& ds,
                                                  const Probabilities& probabilities);

// Writes into `dir` metrics.json (header + score()), confusion_<task>.csv, roc_<task>.csv, the
// confusion/ROC plots and predictions.csv (one row per example: source, offset, and per task
// the true class, the predicted one and each class's probability); returns the metrics.json
// content.
nlohmann::json write_results(const std::filesystem::path& dir, nlohmann::json header,
                             const data::ShardDataset& ds, const Probabilities& probabilities);

// The whole run for model.type svm | rf: one classifier per task on the stats input.
RunResult run_tabular(const ExperimentConfig& cfg, const std::filesystem::path& shards_dir);

// The saved classifier of `task` (<run>/model_<task>.h5), checked against the checksum run.json
// recorded and against `n_classes` (its classes in classes.json): InputError naming the file.
std::unique_ptr<baselines::TabularClassifier> load_tabular(const std::filesystem::path& run,
                                                           const std::string& task,
                                                           size_t n_classes);

// The class probabilities of a tabular run's saved classifiers on `ds`.
Probabilities evaluate_tabular(const std::filesystem::path& run_dir, const ExperimentConfig& cfg,
                               const data::ShardDataset& ds);

}  // namespace hptrain::train::detail
