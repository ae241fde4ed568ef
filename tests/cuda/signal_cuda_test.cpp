// The GPU's zero-crossing rate and RMS (cuda/src/signal.cu) against the CPU's. Skips without a
// GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

TEST_P(Twin, ZcrAndRms) {
  const auto& z = cfg_.zcr;
  const auto& r = cfg_.rms;
  const int64_t Tz = valid(c_.batch - 1, z.frame_length, z.hop_length, z.center);
  const int64_t Tr = valid(c_.batch - 1, r.frame_length, r.hop_length, r.center);
  for (int64_t b = 0; b < c_.batch; ++b) {  // CPU would throw: the GPU twins are not asked
    if (valid(b, z.frame_length, z.hop_length, z.center) == 0) GTEST_SKIP() << "clip too short";
  }
  Guarded zcr_out(static_cast<size_t>(c_.batch * Tz)), rms_out(static_cast<size_t>(c_.batch * Tr));
  zero_crossing_rate(z, clips(), zcr_out.data(), nullptr);
  rms(r, clips(), rms_out.data(), nullptr);
  const std::vector<float> gz = zcr_out.read("zcr"), gr = rms_out.read("rms");
  expect_items(
      "zcr", gz, 1, Tz,
      [&](int64_t b) {
        const std::vector<float> y = clip(b);
        Tensor3 cpu;
        features::zero_crossing_rate(z, y.data(), 1, static_cast<int64_t>(y.size()), cpu);
        return cpu.data;
      },
      kZcrAtol, kZcrRtol, z.frame_length, z.hop_length, z.center);
  expect_items(
      "rms", gr, 1, Tr,
      [&](int64_t b) {
        const std::vector<float> y = clip(b);
        Tensor3 cpu;
        features::rms(r, y.data(), 1, static_cast<int64_t>(y.size()), cpu);
        return cpu.data;
      },
      kRmsAtol, kRmsRtol, r.frame_length, r.hop_length, r.center);
}

}  // namespace
}  // namespace hptrain::cuda::test
