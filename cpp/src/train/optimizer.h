// The optimiser a run's [train] names and its learning-rate schedule.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "hptrain/train/experiment.h"

namespace hptrain::train::detail {

// Adam, AdamW or SGD (Nesterov momentum) over `params`, with t.lr and t.weight_decay.
// `params`: the groups of models::parameter_groups (the second, a pretrained encoder's, if any).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const TrainConfig& t, const std::vector<torch::optim::OptimizerParamGroup>& params);

// Learning rate of optimiser step `step`: linear warm-up, then cosine to 0, step decay or flat.
double lr_at(const TrainConfig& t, int64_t step, int64_t steps_per_epoch);

}  // namespace hptrain::train::detail
