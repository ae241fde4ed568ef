// merge_segments: runs of equally classified, touching chunks as one segment each.
#include "hptrain/train/segments.h"

#include <algorithm>

namespace hptrain::train {

std::vector<Segment> merge_segments(const std::vector<ChunkClass>& chunks) {
  constexpr double kTouch = 1e-6;  // seconds: chunk offsets are sample counts / rate
  std::vector<Segment> out;
  for (const auto& c : chunks) {
    const double end = c.start_s + c.duration_s;
    if (!out.empty() && out.back().cls == c.cls && c.start_s <= out.back().end_s + kTouch) {
      Segment& s = out.back();
      s.end_s = std::max(s.end_s, end);
      s.mean_probability += c.probability;  // a sum until the segment closes
      ++s.chunks;
      continue;
    }
    out.push_back({c.cls, c.start_s, end, 1, c.probability});
  }
  for (auto& s : out) s.mean_probability /= static_cast<double>(s.chunks);
  return out;
}

}  // namespace hptrain::train
