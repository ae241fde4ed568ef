// Device queries that need no GPU: HP_FORCE_CPU turns the GPU path off, and the CPU's
// description as logs and reports print it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <utility>

#include "hptrain/device.h"

namespace hptrain {
namespace {

TEST(Device, ForceCpuTurnsTheGpuOff) {
  ASSERT_EQ(setenv("HP_FORCE_CPU", "1", 1), 0);
  EXPECT_FALSE(gpu_available());
  EXPECT_EQ(device_description().rfind("cpu (", 0), 0u) << device_description();
  ASSERT_EQ(unsetenv("HP_FORCE_CPU"), 0);
}

TEST(Device, ForceCpuIsSetByAnythingButEmptyOrZero) {
  for (const auto& [value, forced] :
       {std::pair<const char*, bool>{"1", true}, {"yes", true}, {"0", false}, {"", false}}) {
    ASSERT_EQ(setenv("HP_FORCE_CPU", value, 1), 0);
    EXPECT_EQ(cpu_forced(), forced) << "'" << value << "'";
  }
  ASSERT_EQ(unsetenv("HP_FORCE_CPU"), 0);
  EXPECT_FALSE(cpu_forced());
}

TEST(Device, SettingsParseAsTheConfigsWriteThem) {
  using Kind = DeviceSetting::Kind;
  EXPECT_EQ(parse_device("auto")->kind, Kind::automatic);
  EXPECT_EQ(parse_device("cpu")->kind, Kind::cpu);
  EXPECT_EQ(parse_device("cuda")->kind, Kind::cuda);
  EXPECT_EQ(parse_device("cuda")->index, 0);
  EXPECT_EQ(parse_device("cuda:0")->index, 0);
  EXPECT_EQ(parse_device("cuda:12")->kind, Kind::cuda);
  EXPECT_EQ(parse_device("cuda:12")->index, 12);
  EXPECT_EQ(parse_device("cuda:9999")->index, 9999);
  for (const char* bad :
       {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda: 1", "cuda:12345", "CPU", ""}) {
    EXPECT_FALSE(parse_device(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(Device, CpuDescriptionCountsThreads) {
  EXPECT_EQ(cpu_description(1), "cpu (1 thread)");
  EXPECT_EQ(cpu_description(8), "cpu (8 threads)");
}

}  // namespace
}  // namespace hptrain
