// The optimiser and the learning-rate schedule (optimizer.h).
#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace hptrain::train::detail {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const TrainConfig& t, const std::vector<torch::optim::OptimizerParamGroup>& params) {
  if (t.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(t.lr)
                                                         .momentum(t.momentum)
                                                         .nesterov(true)
                                                         .weight_decay(t.weight_decay));
}

double lr_at(const TrainConfig& t, int64_t step, int64_t steps_per_epoch) {
  const int64_t warm = static_cast<int64_t>(t.warmup_epochs) * steps_per_epoch;
  if (step < warm) return t.lr * static_cast<double>(step + 1) / static_cast<double>(warm);
  if (t.schedule == "step") {
    return t.lr * std::pow(t.gamma, static_cast<double>(step / steps_per_epoch / t.step_size));
  }
  if (t.schedule == "cosine") {
    const int64_t total = static_cast<int64_t>(t.epochs) * steps_per_epoch;
    const double p =
        static_cast<double>(step - warm) / static_cast<double>(std::max<int64_t>(1, total - warm));
    return t.lr * 0.5 * (1.0 + std::cos(M_PI * std::min(p, 1.0)));
  }
  return t.lr;
}

}  // namespace hptrain::train::detail
