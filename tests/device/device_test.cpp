// Device queries that need no GPU: HP_FORCE_CPU turns the GPU path off, and the CPU's
// description as logs and reports print it.
#include <gtest/gtest.h>

#include <cstdlib>

#include "hptrain/device.h"

namespace hptrain {
namespace {

TEST(Device, ForceCpuTurnsTheGpuOff) {
  ASSERT_EQ(setenv("HP_FORCE_CPU", "1", 1), 0);
  EXPECT_FALSE(gpu_available());
  EXPECT_EQ(device_description().rfind("cpu (", 0), 0u) << device_description();
  ASSERT_EQ(unsetenv("HP_FORCE_CPU"), 0);
}

TEST(Device, CpuDescriptionCountsThreads) {
  EXPECT_EQ(cpu_description(1), "cpu (1 thread)");
  EXPECT_EQ(cpu_description(8), "cpu (8 threads)");
}

}  // namespace
}  // namespace hptrain
