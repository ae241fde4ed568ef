// These tests hold the CPU path to librosa; on a machine with a GPU, features::extract would
// dispatch to the CUDA twins, which tests/cuda holds to the CPU path at their own tolerances.
#include <gtest/gtest.h>

#include <cstdlib>

#include "hptrain/device.h"

namespace {

// Runs before main(), so every test in this binary sees the CPU path.
const bool kForcedCpu = setenv("HP_FORCE_CPU", "1", 1) == 0;

TEST(CpuOnly, ExtractUsesTheCpuPathInTheseTests) {
  ASSERT_TRUE(kForcedCpu);
  EXPECT_FALSE(hptrain::gpu_available());
}

}  // namespace
