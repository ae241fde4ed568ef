// merge_segments on hand-built timelines: touching chunks of one class merge, another class or a
// gap starts a new segment, overlapping chunks (hop shorter than the chunk) extend to the
// furthest end, and the mean probability is each segment's own.
#include <gtest/gtest.h>

#include "hptrain/train/segments.h"

namespace hptrain::train {
namespace {

TEST(MergeSegments, ClassChangesAndGapsStartSegments) {
  // classes 0 0 1 | gap (trimmed silence 9-12 s) | 1 0, chunks of 3 s
  const std::vector<ChunkClass> chunks = {
      {0, 3, 0, 0.9}, {3, 3, 0, 0.7}, {6, 3, 1, 0.6}, {12, 3, 1, 0.8}, {15, 1.5, 0, 0.5}};
  const auto s = merge_segments(chunks);
  ASSERT_EQ(s.size(), 4u);
  const std::vector<int> cls = {0, 1, 1, 0};
  const std::vector<double> start = {0, 6, 12, 15}, end = {6, 9, 15, 16.5};
  const std::vector<int64_t> n = {2, 1, 1, 1};
  const std::vector<double> mean = {0.8, 0.6, 0.8, 0.5};
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].cls, cls[i]) << i;
    EXPECT_DOUBLE_EQ(s[i].start_s, start[i]) << i;
    EXPECT_DOUBLE_EQ(s[i].end_s, end[i]) << i;
    EXPECT_EQ(s[i].chunks, n[i]) << i;
    EXPECT_NEAR(s[i].mean_probability, mean[i], 1e-12) << i;
  }
}

TEST(MergeSegments, OverlappingChunksExtendToTheFurthestEnd) {
  // chunks of 3 s every 1.5 s, the last one shorter (the end of the file)
  const std::vector<ChunkClass> chunks = {{0, 3, 2, 1.0}, {1.5, 3, 2, 0.5}, {3, 2, 2, 0.6}};
  const auto s = merge_segments(chunks);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].start_s, 0);
  EXPECT_DOUBLE_EQ(s[0].end_s, 5);
  EXPECT_EQ(s[0].chunks, 3);
  EXPECT_NEAR(s[0].mean_probability, 0.7, 1e-12);
}

TEST(MergeSegments, OffsetsFromSampleCountsStillTouch) {
  // 1/3-second chunks at 16 kHz: 5333 samples is 0.3333125 s, the next offset is rounded
  const double hop = 5333.0 / 16000.0;
  const std::vector<ChunkClass> chunks = {{0, hop, 0, 1}, {hop + 1e-9, hop, 0, 1}};
  EXPECT_EQ(merge_segments(chunks).size(), 1u);
  EXPECT_TRUE(merge_segments({}).empty());
}

}  // namespace
}  // namespace hptrain::train
