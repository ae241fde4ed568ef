// Speaker verification on a prepared split: the model's embeddings (models::Net::embed, L2
// normalised) of every chunk of a ShardDataset, scored as same/different pairs of the speaker
// task's classes (metrics::embedding_trials, metrics::verification). What evaluate and the
// training's final evaluation add under tasks.<task>.verification, and what enrol calibrates
// its threshold on. LibTorch-side header.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/data/dataset.h"
#include "hptrain/metrics/verification.h"
#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"

namespace hptrain::speakers {

// Embeddings [n, dim] of a split's chunks with their class in `task` (-1 for `background`).
struct SplitEmbeddings {
  int64_t n = 0, dim = 0;
  std::vector<float> data;
  std::vector<int64_t> labels;
};

struct SplitOptions {
  int64_t batch_size = 64;
  bool bf16 = false;   // autocast to bfloat16 on the device given (CUDA or CPU)
  int64_t frames = 0;  // > 0: each chunk cut to its first `frames` frames (a window's length)
  int prefetch = 2;    // reader threads
};

SplitEmbeddings embed_split(models::Net& net, torch::Device device, const data::ShardDataset& ds,
                            data::Input in, const std::string& task, const std::string& background,
                            const SplitOptions& opts = {});

// The run's speaker task: model.loss_task when it is one of `tasks`, else none.
std::optional<std::string> speaker_task(const train::ExperimentConfig& cfg,
                                        const std::vector<std::string>& tasks);

// Verification of the embeddings' pairs (a seeded sample of 2,000,000 when more); none when the
// split has no same-class or no different-class pair.
std::optional<metrics::Verification> verify(const SplitEmbeddings& e, uint64_t seed);

// {eer, min_dcf, threshold, min_dcf_threshold (null for reject all), targets, nontargets,
// p_target}: the JSON of tasks.<task>.verification.
nlohmann::json to_json(const metrics::Verification& v);

// Adds tasks.<task>.verification to `metrics` (metrics.json's content) for the speaker task of
// `cfg` among `tasks`, from `ds` (whose classes are the run's), and rewrites `metrics_json`
// with it; `background` is that task's background class ("" for none). Nothing when the run has
// no speaker task or the split no pair of each kind (logged).
void add_verification(const std::filesystem::path& metrics_json, nlohmann::json& metrics,
                      models::Net& net, torch::Device device, const data::ShardDataset& ds,
                      data::Input in, const train::ExperimentConfig& cfg,
                      const std::vector<std::string>& tasks);

}  // namespace hptrain::speakers
