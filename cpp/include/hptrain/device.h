// Device selection: the one place that decides between the GPU and the CPU implementation, reads
// HP_FORCE_CPU and parses the device settings of the configs. Library hp_device (the only one of
// the LibTorch-free areas besides features and baselines that links hp_cuda).
#pragma once

#include <optional>
#include <string>

namespace hptrain {

// True when HP_FORCE_CPU is set in the environment to anything but "" or "0": every GPU path is
// off (for comparisons and CI).
bool cpu_forced();

// A device setting as the configs write it ([model] device, [train] device).
struct DeviceSetting {
  enum class Kind { automatic, cpu, cuda };
  Kind kind = Kind::automatic;
  int index = 0;  // cuda: the device
};
// "auto", "cpu", "cuda" (device 0) or "cuda:N" (N of 1 to 4 digits); nullopt for anything else.
std::optional<DeviceSetting> parse_device(const std::string& spec);

// True when this build has the CUDA kernels and a CUDA device is usable at run time.
// HP_FORCE_CPU=1 in the environment makes it false (for comparisons and CI).
bool gpu_available();

// A short description for logs and reports: "NVIDIA H100 80GB HBM3 (cuda:1)" for CUDA device
// `cuda_index` when a GPU is usable, else "cpu (2 threads)".
std::string device_description(int cuda_index = 0);

// "cpu (1 thread)", "cpu (8 threads)".
std::string cpu_description(int threads);

}  // namespace hptrain
