// Test helper for the model tests: sets a LibTorch module's parameters and buffers by name to
// values worked by hand.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace hptrain::test {

// Sets every parameter and buffer of `m` named in `values` (others untouched); all must exist.
inline void set(torch::nn::Module& m, const std::map<std::string, std::vector<float>>& values) {
  torch::NoGradGuard no_grad;
  auto params = m.named_parameters();
  auto buffers = m.named_buffers();
  for (const auto& [name, v] : values) {
    torch::Tensor* t = params.find(name);
    if (t == nullptr) t = buffers.find(name);
    ASSERT_NE(t, nullptr) << name;
    ASSERT_EQ(t->numel(), static_cast<int64_t>(v.size())) << name;
    t->copy_(torch::tensor(v).reshape(t->sizes()));
  }
}

}  // namespace hptrain::test
