// The LibTorch side of a run that training, evaluation and prediction share (torch_run.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"

namespace hptrain::train::detail {

// torch's threads, cuDNN autotuning on CUDA, deterministic algorithms on the CPU when asked.
void configure_torch(const TrainConfig& t, torch::Device device);

// "NVIDIA H100 80GB HBM3 (cuda:0)", "cpu (2 threads), OpenBLAS OpenMP": for logs and metrics.json.
std::string describe(torch::Device device);

// The run's best model (<run>/model_best.pt) for inputs of `rows` rows and `classes` classes
// per task of `tasks` (in the order of the model's outputs), on `device`, in eval mode.
// InputError when it is missing, damaged (checksum), of another run (`fingerprint`: the run's,
// detail::read_run_classes) or does not fit cfg.model.
models::Net load_best(const std::filesystem::path& run, const ExperimentConfig& cfg, int64_t rows,
                      const std::vector<std::string>& tasks, const std::vector<int64_t>& classes,
                      torch::Device device, const std::string& fingerprint);

// What a DeviceOutOfMemory of a run's LibTorch work says (models::out_of_memory_as_error):
// `where` (the experiment file, or the run folder), what ran out ("training", "evaluating",
// "predicting"), the batch size and the option that lowers it (--set train.batch_size= when
// training, --batch-size for evaluate and predict).
std::string out_of_memory_advice(const std::filesystem::path& where, const std::string& doing,
                                 int64_t batch_size);

}  // namespace hptrain::train::detail
