// A reader's batch as a tensor on the training device (batches.h).
#include "train/batches.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace hptrain::train::detail {

data::Prefetcher::Stage stage_for(torch::Device device) {
  if (!device.is_cuda()) return {};
  return [](data::Batch& b) {
    auto host = torch::empty(b.shape, torch::TensorOptions(torch::kFloat32).pinned_memory(true));
    std::memcpy(host.data_ptr<float>(), b.x.data(), b.x.size() * sizeof(float));
    b.staged = std::make_shared<torch::Tensor>(std::move(host));
  };
}

torch::Tensor batch_tensor(data::Batch& b, const torch::TensorOptions& options) {
  const bool staged = b.staged != nullptr;
  const auto host = staged ? *std::static_pointer_cast<torch::Tensor>(b.staged)
                           : torch::from_blob(b.x.data(), b.shape, torch::kFloat32);
  return host.to(options, /*non_blocking=*/staged, /*copy=*/true);
}

int64_t inference_batch_size(int64_t asked, const std::vector<int64_t>& example_shape, bool cuda) {
  constexpr double kCpuBatchInputBytes = 1.5 * (1 << 20);
  const int64_t n = std::max<int64_t>(1, asked);
  if (cuda) return n;
  double bytes = sizeof(float);
  for (int64_t d : example_shape) bytes *= static_cast<double>(std::max<int64_t>(1, d));
  return std::clamp(static_cast<int64_t>(kCpuBatchInputBytes / bytes), int64_t{1}, n);
}

}  // namespace hptrain::train::detail
