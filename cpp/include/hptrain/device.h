// Device selection: the one place that decides between the GPU and the CPU implementation.
#pragma once

#include <string>

namespace hptrain {

// True when this build has the CUDA kernels and a CUDA device is usable at run time.
// HP_FORCE_CPU=1 in the environment makes it false (for comparisons and CI).
bool gpu_available();

// A short description for logs and reports: "NVIDIA H100 80GB HBM3 (cuda:1)" for CUDA device
// `cuda_index` when a GPU is usable, else "cpu (2 threads)".
std::string device_description(int cuda_index = 0);

// "cpu (1 thread)", "cpu (8 threads)".
std::string cpu_description(int threads);

}  // namespace hptrain
