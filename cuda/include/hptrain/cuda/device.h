// CUDA device queries that never throw when no driver or device is present.
#pragma once

#include <string>

namespace hptrain::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device.
int device_count() noexcept;

// The device's name, e.g. "NVIDIA H100 80GB HBM3"; empty when it cannot be read.
std::string device_name(int device) noexcept;

}  // namespace hptrain::cuda
