// Resolves a device setting ("auto", "cpu", "cuda", "cuda:N") to a LibTorch device.
#pragma once

#include <torch/torch.h>

#include <string>

namespace hptrain::models {

// "auto" is cuda:0 when LibTorch sees a CUDA device (and HP_FORCE_CPU is unset), else cpu.
// Throws ConfigError for a malformed spec or a CUDA device that is not there.
torch::Device resolve_device(const std::string& spec);

}  // namespace hptrain::models
