// CUDA device queries: never throw without a driver; agree with gpu_available().
#include "hptrain/cuda/device.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "support/support.h"

namespace hptrain::cuda {
namespace {

// Every counted device has a name, the one past the last has none, a failed query leaves no
// sticky error that changes the next count, and gpu_available() says the same.
TEST(CudaDevice, CountAgreesWithNamesAndGpuAvailable) {
  const int n = device_count();
  EXPECT_GE(n, 0);
  for (int i = 0; i < n; ++i) EXPECT_FALSE(device_name(i).empty()) << "device " << i;
  EXPECT_TRUE(device_name(n).empty()) << "one past the last device";
  EXPECT_TRUE(device_name(-1).empty());
  EXPECT_EQ(device_count(), n) << "after failed queries";
  const char* force = std::getenv("HP_FORCE_CPU");
  if (force == nullptr || *force == '\0' || std::string(force) == "0") {
    EXPECT_EQ(::hptrain::gpu_available(), n > 0);
  }
}

TEST(CudaDevice, NamesTheFirstDevice) {
  HP_REQUIRE_GPU();
  EXPECT_FALSE(device_name(0).empty());
}

}  // namespace
}  // namespace hptrain::cuda
