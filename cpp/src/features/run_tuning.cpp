// The tuning of a file streamed in windows (run.h): its piptrack peaks gathered in a scratch
// HDF5 file, their median by counting order keys, then pitch_tuning's histogram.
#include "run_tuning.h"

#include <cstring>
#include <functional>
#include <vector>

#include "hptrain/features/tuning.h"

namespace hptrain::features::detail {

namespace {

// Floats as unsigned keys in the same order (negative values below positive ones).
uint32_t order_key(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return (u & 0x80000000u) != 0 ? ~u : (u | 0x80000000u);
}
float from_key(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) != 0 ? (k & 0x7fffffffu) : ~k;
  float v = 0;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// detail::tuning_from_peaks over the `n` peaks in `raw` ("tuning_pitch", "tuning_mag" [1, n]),
// in memory bounded by a block: the median exactly, by counting the values' order keys (their
// high 16 bits, then the low 16 bits within the buckets that hold the middle ranks), then the
// residual histogram. ref: tuning.cpp tuning_from_peaks

}  // namespace

double tuning_from_scratch(const h5::File& raw, int64_t n, int bins_per_octave) {
  if (n == 0) return 0.0;
  constexpr int64_t kBlock = int64_t{1} << 20;
  std::vector<float> mag, pitch;
  auto for_blocks = [&](bool with_pitch, const std::function<void(int64_t)>& fn) {
    for (int64_t i = 0; i < n; i += kBlock) {
      const int64_t m = std::min(kBlock, n - i);
      mag.resize(static_cast<size_t>(m));
      raw.read_columns("tuning_mag", i, m, mag.data());
      if (with_pitch) {
        pitch.resize(static_cast<size_t>(m));
        raw.read_columns("tuning_pitch", i, m, pitch.data());
      }
      fn(m);
    }
  };
  // threshold = np.median(mag[pitch > 0]) in float32: ranks n/2, and n/2 - 1 when n is even
  std::vector<int64_t> ranks = {n / 2};
  if (n % 2 == 0) ranks.push_back(n / 2 - 1);
  std::vector<int64_t> high(1 << 16, 0);
  for_blocks(false, [&](int64_t m) {
    for (int64_t i = 0; i < m; ++i) ++high[order_key(mag[i]) >> 16];
  });
  std::vector<uint32_t> bucket(ranks.size());
  std::vector<int64_t> within(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    int64_t below = 0;
    uint32_t b = 0;
    while (below + high[b] <= ranks[r]) below += high[b++];
    bucket[r] = b;
    within[r] = ranks[r] - below;
  }
  std::vector<std::vector<int64_t>> low(ranks.size(), std::vector<int64_t>(1 << 16, 0));
  for_blocks(false, [&](int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      const uint32_t k = order_key(mag[i]);
      for (size_t r = 0; r < ranks.size(); ++r) {
        if ((k >> 16) == bucket[r]) ++low[r][k & 0xffffu];
      }
    }
  });
  std::vector<float> value(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    int64_t below = 0;
    uint32_t b = 0;
    while (below + low[r][b] <= within[r]) below += low[r][b++];
    value[r] = from_key((bucket[r] << 16) | b);
  }
  const float threshold = ranks.size() == 2 ? (value[1] + value[0]) / 2.0f : value[0];
  tuning::Histogram h;
  for_blocks(true, [&](int64_t m) {
    for (int64_t i = 0; i < m; ++i) h.add(pitch[i], mag[i], threshold, bins_per_octave);
  });
  return h.tuning();
}

}  // namespace hptrain::features::detail
