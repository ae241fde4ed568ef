// The GPU's pooled statistics (cuda/src/stats.cu) against the CPU's row_stats. Skips without a
// GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

TEST_P(Twin, RowStatsOverValidFrames) {
  const int rows = 7;
  Tensor3 x(c_.batch, rows, T_);
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = y_[(i * 7) % y_.size()] + 3.0f;
  // frames past each clip's end hold a huge value: any leak shows in the mean
  for (int64_t b = 0; b < c_.batch; ++b) {
    for (int r = 0; r < rows; ++r) {
      for (int64_t t = valid(b); t < T_; ++t) x.at(b, r, t) = 1e6f;
    }
  }
  const DeviceBuffer<float> d_x = upload(x.data);
  Guarded out(static_cast<size_t>(c_.batch * 2 * rows));
  row_stats(frames(d_x.data(), rows), out.data(), 2 * rows, nullptr);
  const std::vector<float> gpu = out.read("row_stats");
  for (int64_t b = 0; b < c_.batch; ++b) {
    const std::vector<float> own = item_frames(x, b, valid(b));
    std::vector<float> cpu(2 * rows);
    features::row_stats(own.data(), rows, valid(b), cpu.data());
    ASSERT_TRUE(all_close("row_stats item " + std::to_string(b), gpu.data() + b * 2 * rows,
                          cpu.data(), cpu.size(), kStatsAtol, kStatsRtol));
  }
}

}  // namespace
}  // namespace hptrain::cuda::test
