#include "hptrain/device.h"

#include <cstdlib>
#include <cstring>
#include <thread>

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/device.h"
#endif

namespace hptrain {

bool cpu_forced() {
  const char* force = std::getenv("HP_FORCE_CPU");
  return force != nullptr && std::strcmp(force, "0") != 0 && *force != '\0';
}

std::optional<DeviceSetting> parse_device(const std::string& spec) {
  using Kind = DeviceSetting::Kind;
  if (spec == "auto") return DeviceSetting{Kind::automatic, 0};
  if (spec == "cpu") return DeviceSetting{Kind::cpu, 0};
  if (spec == "cuda") return DeviceSetting{Kind::cuda, 0};
  if (spec.rfind("cuda:", 0) != 0 || spec.size() == 5 || spec.size() > 9) return std::nullopt;
  if (spec.find_first_not_of("0123456789", 5) != std::string::npos) return std::nullopt;
  return DeviceSetting{Kind::cuda, std::stoi(spec.substr(5))};
}

bool gpu_available() {
  if (cpu_forced()) return false;
#ifdef HP_WITH_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

std::string device_description(int cuda_index) {
#ifdef HP_WITH_CUDA
  if (gpu_available()) {
    return cuda::device_name(cuda_index) + " (cuda:" + std::to_string(cuda_index) + ")";
  }
#else
  static_cast<void>(cuda_index);
#endif
  return cpu_description(static_cast<int>(std::thread::hardware_concurrency()));
}

std::string cpu_description(int threads) {
  return "cpu (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
}

}  // namespace hptrain
