#include "hptrain/models/torch_device.h"

#include <cstdlib>
#include <cstring>

#include "hptrain/error.h"

namespace hptrain::models {

torch::Device resolve_device(const std::string& spec) {
  const char* force = std::getenv("HP_FORCE_CPU");
  const bool forced_cpu = force != nullptr && *force != '\0' && std::strcmp(force, "0") != 0;
  const bool cuda = !forced_cpu && torch::cuda::is_available();
  if (spec == "auto") return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      char* end = nullptr;
      const long v = std::strtol(spec.c_str() + 5, &end, 10);
      if (*end != '\0' || v < 0) {
        throw ConfigError("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
      }
      index = static_cast<int>(v);
    }
    if (!cuda) throw ConfigError("device '" + spec + "': LibTorch sees no CUDA device");
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      throw ConfigError("device '" + spec + "': only " +
                        std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
}

}  // namespace hptrain::models
