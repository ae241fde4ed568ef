// A recording's per-chunk classes merged into a timeline: consecutive chunks of one class become
// one segment (what `hptrain predict` writes to <stem>.segments.csv).
#pragma once

#include <cstdint>
#include <vector>

namespace hptrain::train {

// One chunk's answer for one task: where it lies in the file's time, the predicted class and
// that class's probability.
struct ChunkClass {
  double start_s = 0, duration_s = 0;
  int cls = 0;
  double probability = 0;
};

struct Segment {
  int cls = 0;
  double start_s = 0, end_s = 0;  // the first chunk's start, the furthest chunk end
  int64_t chunks = 0;
  double mean_probability = 0;  // of `cls`, over the segment's chunks
};

// Merges chunks (in time order) into segments: a chunk extends the open segment when it has the
// same class and starts no later than the segment's end; a gap (trimmed silence, a hop longer
// than the chunk) or another class starts a new one.
std::vector<Segment> merge_segments(const std::vector<ChunkClass>& chunks);

}  // namespace hptrain::train
