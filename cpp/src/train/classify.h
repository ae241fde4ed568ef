// A run's best model as a function from a batch of examples to class probabilities, for the
// paths that extract their own input (predict.cpp's whole recordings, robustness.cpp's noisy
// chunks): LibTorch models and the saved SVM / forest behind one signature.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/features/config.h"
#include "hptrain/speakers/cast.h"
#include "hptrain/tensor.h"
#include "hptrain/train/experiment.h"

namespace hptrain::train::detail {

// A task and its classes, in the order the model's heads (or classifiers) answer.
struct TaskClasses {
  std::string name;
  std::vector<std::string> classes;
};

// Class probabilities of a batch of examples: one [B, classes] row-major array per task (then,
// with a cast, the examples' unit embeddings [B, D]).
using Classify = std::function<std::vector<std::vector<float>>(Tensor3& examples)>;

// The run's tasks (the experiment's, else the dataset's, in order) with the classes it was
// trained with (classes.json, checked against the fingerprint run.json records).
std::vector<TaskClasses> run_tasks(const std::filesystem::path& run, const ExperimentConfig& cfg,
                                   const data::DatasetConfig& dataset, std::string& fingerprint);

// The run's best LibTorch model on its configured device; `device_name` receives where it runs.
// With a `cast` (read from `cast_file`, checked against the run), each batch's unit embeddings
// follow the tasks' probabilities.
Classify torch_classifier(const std::filesystem::path& run, const ExperimentConfig& cfg,
                          const features::FeatureConfig& feats, data::Input in,
                          const std::vector<TaskClasses>& tasks, const std::string& fingerprint,
                          std::string& device_name, const speakers::Cast* cast = nullptr,
                          const std::filesystem::path& cast_file = {});

// The run's saved classifiers (one per task), checked against run.json's checksums.
Classify tabular_classifier(const std::filesystem::path& run,
                            const std::vector<TaskClasses>& tasks);

}  // namespace hptrain::train::detail
