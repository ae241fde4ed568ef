#include "hptrain/train/device_queue.h"

namespace hptrain::train {

torch::Tensor to_device(const torch::Tensor& t, torch::Device device) {
  if (!device.is_cuda() || !t.device().is_cpu()) return t.to(device);
  // the page-locked block goes back to LibTorch's host cache only once the copy is done
  const torch::Tensor pinned = t.is_pinned() ? t : t.pin_memory();
  return pinned.to(device, /*non_blocking=*/true);
}

void clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads, norms;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return;
  for (const auto& g : grads) norms.push_back(g.norm(2.0));
  const torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2.0);
  const torch::Tensor coef = torch::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (auto& g : grads) g.mul_(coef);
}

LossSum::LossSum(double sum, int64_t examples, torch::Device device)
    : sum_(torch::full({}, sum, torch::TensorOptions(torch::kFloat64).device(device))),
      examples_(examples),
      read_sum_(sum),
      read_examples_(examples) {}

void LossSum::add(const torch::Tensor& mean_loss, int64_t examples) {
  sum_.add_(mean_loss.detach().to(torch::kFloat64) * static_cast<double>(examples));
  examples_ += examples;
}

double LossSum::value() {
  read_sum_ = sum_.item<double>();
  read_examples_ = examples_;
  read_at_ = std::chrono::steady_clock::now();
  read_ = true;
  return read_sum_;
}

double LossSum::mean(std::chrono::duration<double> refresh) {
  if (!read_ || std::chrono::steady_clock::now() - read_at_ >= refresh) value();
  return read_examples_ > 0 ? read_sum_ / static_cast<double>(read_examples_) : 0.0;
}

}  // namespace hptrain::train
