// Resolves a device setting ("auto", "cpu", "cuda", "cuda:N") to a LibTorch device, and scopes
// bf16 autocast on CUDA (whose API moved in LibTorch 2.4).
#pragma once

#include <torch/torch.h>

#include <string>

namespace hptrain::models {

// "auto" is cuda:0 when LibTorch sees a CUDA device (and HP_FORCE_CPU is unset), else cpu.
// Throws ConfigError for a malformed spec or a CUDA device that is not there.
torch::Device resolve_device(const std::string& spec);

// While alive and `on`, CUDA ops run under bf16 autocast (matmul/conv/LSTM in bf16, reductions
// and losses in float32); the destructor turns it off and clears the cast cache.
class AutocastGuard {
 public:
  explicit AutocastGuard(bool on);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool on_;
};

}  // namespace hptrain::models
