// CUDA device queries: never throw without a driver; agree with gpu_available().
#include "hptrain/cuda/device.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace hptrain::cuda {
namespace {

TEST(CudaDevice, CountIsNonNegativeWithoutDriver) {
  EXPECT_GE(device_count(), 0);
}

TEST(CudaDevice, NamesTheFirstDevice) {
  HP_REQUIRE_GPU();
  EXPECT_FALSE(device_name(0).empty());
}

}  // namespace
}  // namespace hptrain::cuda
