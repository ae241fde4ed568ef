// Stream mode's arithmetic (speakers/stream_grid.h) on a small grid worked out by hand: 10
// samples per input frame, windows of 100 samples (11 centred frames) every 50, 4 input frames
// per body frame (40 samples), 2 windows per segment.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "speakers/stream_grid.h"

namespace hptrain::speakers::detail {
namespace {

StreamGrid small_grid() {
  StreamGrid g;
  g.len = 100;
  g.hop = 50;
  g.stride = 4;
  g.frame_hop = 10;
  g.window_frames = 11;
  g.segment_windows = 2;
  g.min_last_fraction = 0.5;
  return g;
}

// Full windows every hop, then the window at the next hop when what it holds (the rest) is at
// least min_last_fraction of a window.
TEST(StreamGrid, CountsWindowsAsTheChunkerCutsThem) {
  auto g = small_grid();
  EXPECT_EQ(g.window_count(0), 0);
  EXPECT_EQ(g.window_count(49), 0);   // the rest, 49, under half a window
  EXPECT_EQ(g.window_count(50), 1);   // [0, 50) padded
  EXPECT_EQ(g.window_count(100), 2);  // [0, 100), then [50, 100): half a window, kept
  EXPECT_EQ(g.window_count(199), 3);  // [0, 100), [50, 150), then [100, 199)
  EXPECT_EQ(g.window_count(200), 4);  // [0, 100), [50, 150), [100, 200), then [150, 200)
  g.min_last_fraction = 0.75;
  EXPECT_EQ(g.window_count(100), 1);  // [50, 100) holds 50 < 75: dropped
  EXPECT_EQ(g.window_count(130), 2);  // [50, 130) holds 80: kept
  EXPECT_EQ(g.window_count(174), 2);  // [0, 100), [50, 150), then [100, 174) holds 74: dropped
}

TEST(StreamGrid, PoolsEachWindowOverTheBodyFramesItCovers) {
  const auto g = small_grid();
  ASSERT_EQ(g.width(), 4);  // 11 / 4 + 2
  std::vector<int64_t> index;
  std::vector<float> weight;
  // window 1: input frames [5, 16): body frame 1 holds [4, 8) (3 of its 4 inside), 2 and 3
  // whole, 4 ([16, 20)) none
  g.pooling(1, 2, 0, 100, index, weight);
  EXPECT_EQ(index, (std::vector<int64_t>{1, 2, 3, 0}));
  EXPECT_EQ(weight, (std::vector<float>{0.75f, 1.0f, 1.0f, 0.0f}));
  // windows 2 and 3 (input frames [10, 21), [15, 26)) with body frames 2 to 5 given: window 2
  // over frames 2 ([8, 12): 2 of 4), 3, 4 and 5 ([20, 24): 1); window 3 over 3 ([12, 16): 1),
  // 4, 5, and frame 6 ([24, 28): 2) left out, past the 4 given
  g.pooling(2, 4, 2, 4, index, weight);
  EXPECT_EQ(index, (std::vector<int64_t>{0, 1, 2, 3, 1, 2, 3, 0}));
  EXPECT_EQ(weight, (std::vector<float>{0.5f, 1.0f, 1.0f, 0.25f, 0.25f, 1.0f, 1.0f, 0.0f}));
}

TEST(StreamGrid, WeightsSumToTheWindowsFramesWhenAllBodyFramesAreThere) {
  auto g = small_grid();
  for (int64_t frames : {11, 13, 16, 25}) {
    g.window_frames = frames;
    std::vector<int64_t> index;
    std::vector<float> weight;
    g.pooling(0, 9, 0, 1000, index, weight);
    for (int64_t k = 0; k < 9; ++k) {
      double sum = 0;
      for (int64_t c = 0; c < g.width(); ++c) sum += weight[static_cast<size_t>(k * g.width() + c)];
      EXPECT_DOUBLE_EQ(sum, static_cast<double>(frames) / g.stride) << "window " << k;
    }
  }
}

TEST(StreamGrid, SegmentsReadTwoBodyFramesOfContextAndWaitForThem) {
  const auto g = small_grid();
  // windows 10 and 11: input frames [50, 61) and [55, 66); body frames 12 (50 / 4) to 17
  // (ceil(66 / 4)): samples [12 * 40 - 80, 17 * 40 + 80) = [400, 760)
  const auto s = g.segment(10, 12, 10000);
  EXPECT_EQ(s.a, 400);
  EXPECT_EQ(s.b, 760);
  EXPECT_EQ(g.segment(10, 12, 700).b, 700);  // clipped at the signal's end
  EXPECT_EQ(g.segment(0, 2, 10000).a, 0);    // and at its start
  EXPECT_EQ(g.keep_from(10), 400);
  EXPECT_FALSE(g.ready(10, 759));
  EXPECT_TRUE(g.ready(10, 760));
}

}  // namespace
}  // namespace hptrain::speakers::detail
