// Stream mode's spans and pooling weights (stream_grid.h).
#include "speakers/stream_grid.h"

#include <algorithm>
#include <cmath>

namespace hptrain::speakers::detail {

int64_t StreamGrid::window_count(int64_t total) const {
  int64_t k = total >= len ? (total - len) / hop + 1 : 0;
  const int64_t rest = total - k * hop;
  if (rest > 0 && rest >= min_last_fraction * static_cast<double>(len)) ++k;
  return k;
}

int64_t StreamGrid::frame_above(int64_t k_last) const {
  return static_cast<int64_t>(
      std::ceil((first_frame(k_last) + static_cast<double>(window_frames)) / stride));
}

int64_t StreamGrid::keep_from(int64_t k0) const {
  const auto j_lo = static_cast<int64_t>(std::floor(first_frame(k0) / stride));
  return std::max<int64_t>(0, j_lo * frame_samples() - 2 * frame_samples());
}

StreamGrid::Span StreamGrid::segment(int64_t k0, int64_t k1, int64_t end) const {
  return {keep_from(k0),
          std::min(end, frame_above(k1 - 1) * frame_samples() + 2 * frame_samples())};
}

bool StreamGrid::ready(int64_t k, int64_t have) const {
  return frame_above(k + segment_windows - 1) * frame_samples() + 2 * frame_samples() <= have;
}

void StreamGrid::pooling(int64_t k0, int64_t k1, int64_t base, int64_t frames,
                         std::vector<int64_t>& index, std::vector<float>& weight) const {
  const int64_t wn = k1 - k0, w = width();
  index.assign(static_cast<size_t>(wn * w), 0);
  weight.assign(index.size(), 0.0f);
  for (int64_t k = k0; k < k1; ++k) {
    const double f0 = first_frame(k), f1 = f0 + static_cast<double>(window_frames);
    const auto j0 = static_cast<int64_t>(std::floor(f0 / stride));
    for (int64_t c = 0; c < w; ++c) {
      const int64_t j = j0 + c;
      const double cover = std::min(f1, static_cast<double>((j + 1) * stride)) -
                           std::max(f0, static_cast<double>(j * stride));
      if (cover <= 0 || j < base || j - base >= frames) continue;
      const auto at = static_cast<size_t>((k - k0) * w + c);
      index[at] = j - base;
      weight[at] = static_cast<float>(cover / stride);
    }
  }
}

}  // namespace hptrain::speakers::detail
