// What keeps a training step from waiting for the device, so that the host queues the next
// steps while the device runs this one: copies from the host that do not wait (LibTorch waits
// for the device after a copy from pageable memory), gradient clipping without reading the norm
// back, and the epoch's loss summed on the device and read back now and then.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace hptrain::train {

// t on `device`. From host memory to CUDA: through page-locked memory, queued on the current
// stream without waiting (t's own memory when it is page-locked already: then the caller leaves
// t unchanged until the stream has passed the copy); otherwise t.to(device) (t itself where it
// is there already).
torch::Tensor to_device(const torch::Tensor& t, torch::Device device);

// torch::nn::utils::clip_grad_norm_ (norm 2) with the same operations, minus the read-back of
// the total norm that the C++ version makes (and so waits for the device at every step): the
// gradients scaled by min(1, max_norm / (total norm + 1e-6)).
void clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

// The training loss of an epoch summed over its examples, on the device: add() queues the sum
// (in float64: the batch's mean loss times its size, then added, the arithmetic and order of a
// host sum); value() and mean() read it back, which waits for the device.
class LossSum {
 public:
  // sum and examples: what the epoch had before (a resumed checkpoint's), so that the sums of a
  // resumed and an uninterrupted epoch are the same additions in the same order.
  LossSum(double sum, int64_t examples, torch::Device device);
  void add(const torch::Tensor& mean_loss, int64_t examples);
  double value();  // waits for the device
  // The mean per example as of the latest read, read again when that is older than `refresh`
  // (for a progress line: at most one wait per refresh).
  double mean(std::chrono::duration<double> refresh);

 private:
  torch::Tensor sum_;
  int64_t examples_;
  double read_sum_;
  int64_t read_examples_;
  std::chrono::steady_clock::time_point read_at_;
  bool read_ = false;
};

}  // namespace hptrain::train
