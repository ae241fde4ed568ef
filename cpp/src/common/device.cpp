#include "hptrain/device.h"

#include <cstdlib>
#include <cstring>
#include <thread>

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/device.h"
#endif

namespace hptrain {

bool gpu_available() {
  const char* force = std::getenv("HP_FORCE_CPU");
  if (force != nullptr && std::strcmp(force, "0") != 0 && *force != '\0') return false;
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
