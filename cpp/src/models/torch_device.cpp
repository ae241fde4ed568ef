#include "hptrain/models/torch_device.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "hptrain/device.h"
#include "hptrain/error.h"

namespace hptrain::models {

torch::Device resolve_device(const std::string& spec) {
  const auto setting = parse_device(spec);
  if (!setting) throw ConfigError("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
  const bool cuda = !cpu_forced() && torch::cuda::is_available();
  switch (setting->kind) {
    case DeviceSetting::Kind::automatic:
      return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    case DeviceSetting::Kind::cpu:
      return torch::Device(torch::kCPU);
    case DeviceSetting::Kind::cuda:
      break;
  }
  if (!cuda) throw ConfigError("device '" + spec + "': LibTorch sees no CUDA device");
  if (setting->index >= static_cast<int>(torch::cuda::device_count())) {
    throw ConfigError("device '" + spec + "': only " + std::to_string(torch::cuda::device_count()) +
                      " CUDA device(s)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(setting->index));
}

// at::autocast's per-device setters appeared in 2.4; 1.x and 2.0-2.3 have the CUDA-only ones.
#if HP_TORCH_VERSION_MAJOR > 2 || (HP_TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define HP_AUTOCAST_PER_DEVICE 1
#endif

AutocastGuard::AutocastGuard(bool on, const torch::Device& device)
    : on_(on), cuda_(device.is_cuda()) {
  if (!on_) return;
#ifdef HP_AUTOCAST_PER_DEVICE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
  at::autocast::set_autocast_enabled(type, true);
#else
  if (cuda_) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
#endif
}

AutocastGuard::~AutocastGuard() {
  if (!on_) return;
#ifdef HP_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_enabled(cuda_ ? at::kCUDA : at::kCPU, false);
#else
  if (cuda_) {
    at::autocast::set_enabled(false);
  } else {
    at::autocast::set_cpu_enabled(false);
  }
#endif
  at::autocast::clear_cache();
}

bool cpu_has_bf16() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

void throw_out_of_memory(const std::string& context, const c10::OutOfMemoryError& e) {
  throw DeviceOutOfMemory(context + " (LibTorch: " + e.what_without_backtrace() + ")");
}

}  // namespace hptrain::models
