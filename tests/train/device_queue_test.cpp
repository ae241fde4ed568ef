// train/device_queue.h: gradient clipping against LibTorch's own, the device loss sum against
// the host's arithmetic (and a resumed sum against an uninterrupted one), copies to the device.
#include "hptrain/train/device_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

namespace hptrain::train {
namespace {

// A test body run on the CPU and on the first CUDA device; the CUDA case is reported as
// skipped (not passed) where LibTorch sees no device.
class OnEachDevice : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && !torch::cuda::is_available()) {
      GTEST_SKIP() << "LibTorch sees no CUDA device";
    }
  }
  torch::Device device() const {
    return GetParam() == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
};
INSTANTIATE_TEST_SUITE_P(Devices, OnEachDevice, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });

// Parameters of the given shapes with seeded gradients of roughly `scale`, on `device`.
std::vector<torch::Tensor> with_grads(const std::vector<std::vector<int64_t>>& shapes, double scale,
                                      torch::Device device) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> params;
  for (const auto& shape : shapes) {
    auto p = torch::randn(shape).to(device).requires_grad_(true);
    p.mutable_grad() = (torch::randn(shape) * scale).to(device);
    params.push_back(p);
  }
  return params;
}

TEST_P(OnEachDevice, ClipGradNormGivesTheSameGradientsAsLibTorchsOwn) {
  {
    const torch::Device device = this->device();
    for (const double scale : {0.01, 10.0}) {  // under the norm (left as they are), over it
      for (const auto& shapes :
           std::vector<std::vector<std::vector<int64_t>>>{{{7, 5}}, {{7, 5}, {5}, {3, 4, 2}}}) {
        auto ours = with_grads(shapes, scale, device), theirs = with_grads(shapes, scale, device);
        std::vector<torch::Tensor> before;
        for (const auto& p : ours) before.push_back(p.grad().clone());
        clip_grad_norm(ours, 1.0);
        torch::nn::utils::clip_grad_norm_(theirs, 1.0);
        double norm_sq = 0;
        for (size_t i = 0; i < ours.size(); ++i) {
          EXPECT_TRUE(torch::equal(ours[i].grad(), theirs[i].grad()))
              << device << ", scale " << scale << ", " << shapes.size() << " parameters, #" << i;
          norm_sq += ours[i].grad().pow(2).sum().item<double>();
        }
        if (scale > 1) {
          EXPECT_NEAR(std::sqrt(norm_sq), 1.0, 1e-5) << "clipped to max_norm";
        } else {
          for (size_t i = 0; i < ours.size(); ++i)
            EXPECT_TRUE(torch::equal(ours[i].grad(), before[i]));
        }
      }
    }
  }
}

TEST(ClipGradNorm, ParametersWithoutGradientsAreSkipped) {
  auto params = with_grads({{4}}, 10.0, torch::kCPU);
  params.push_back(torch::randn({3}).requires_grad_(true));  // no gradient yet
  clip_grad_norm(params, 1.0);
  EXPECT_NEAR(params[0].grad().norm().item<double>(), 1.0, 1e-5);
  EXPECT_FALSE(params[1].grad().defined());
  clip_grad_norm({torch::randn({2})}, 1.0);  // none at all: nothing to do
}

// The batches' mean losses and sizes of a short epoch.
const std::vector<std::pair<float, int64_t>> kSteps = {
    {2.3025851f, 32}, {1.9173f, 32}, {1.41421356f, 32}, {0.7071f, 17}, {0.333333f, 32}};

TEST_P(OnEachDevice, LossSumEqualsTheHostSumBitForBit) {
  {
    const torch::Device device = this->device();
    LossSum sum(0.0, 0, device);
    double host = 0;
    int64_t n = 0;
    for (const auto& [loss, size] : kSteps) {
      sum.add(torch::tensor(loss).to(device), size);
      host += static_cast<double>(loss) * static_cast<double>(size);
      n += size;
    }
    EXPECT_EQ(sum.value(), host) << device;
    EXPECT_EQ(sum.mean(std::chrono::hours(1)), host / static_cast<double>(n)) << device;
  }
}

TEST(LossSum, AResumedSumEqualsTheUninterruptedOne) {
  LossSum whole(0.0, 0, torch::kCPU), first(0.0, 0, torch::kCPU);
  for (const auto& [loss, size] : kSteps) whole.add(torch::tensor(loss), size);
  int64_t seen = 0;
  for (size_t i = 0; i < 2; ++i) {
    first.add(torch::tensor(kSteps[i].first), kSteps[i].second);
    seen += kSteps[i].second;
  }
  LossSum resumed(first.value(), seen, torch::kCPU);  // as from a checkpoint
  for (size_t i = 2; i < kSteps.size(); ++i)
    resumed.add(torch::tensor(kSteps[i].first), kSteps[i].second);
  EXPECT_EQ(resumed.value(), whole.value());
}

TEST(LossSum, TheMeanIsReadAgainOnlyAfterTheRefresh) {
  LossSum sum(10.0, 10, torch::kCPU);
  EXPECT_EQ(sum.mean(std::chrono::hours(1)), 1.0);  // the first call reads
  sum.add(torch::tensor(3.0f), 10);
  EXPECT_EQ(sum.mean(std::chrono::hours(1)), 1.0);  // not yet read again
  EXPECT_EQ(sum.mean(std::chrono::seconds(0)), 2.0);
  EXPECT_EQ(sum.value(), 40.0);
}

TEST(ToDevice, OnTheCpuTheTensorItself) {
  const auto t = torch::arange(5);
  EXPECT_EQ(to_device(t, torch::kCPU).data_ptr(), t.data_ptr());
}

TEST(ToDevice, CudaCopiesWithoutWaitingAndKeepsTheValues) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch sees no CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  for (const auto& host : {torch::arange(1000, torch::kLong), torch::randn({64, 301}),
                           torch::randn({8, 3}).pin_memory()}) {
    const auto d = to_device(host, cuda);
    EXPECT_TRUE(d.is_cuda());
    EXPECT_TRUE(torch::equal(d.cpu(), host));
    EXPECT_EQ(to_device(d, cuda).data_ptr(), d.data_ptr()) << "on the device already";
  }
  // a temporary's page-locked copy outlives it until the copy is done (64 MiB: still queued)
  torch::manual_seed(4);
  const auto d = to_device(torch::randn({4096, 4096}), cuda);
  torch::manual_seed(4);
  EXPECT_TRUE(torch::equal(d.cpu(), torch::randn({4096, 4096})));
}

}  // namespace
}  // namespace hptrain::train
