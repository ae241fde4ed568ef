// The tuning of a file streamed in windows (private to hp_features; run.cpp's third pass).
#pragma once

#include <cstdint>

#include "hptrain/h5.h"

namespace hptrain::features::detail {

// detail::tuning_from_peaks over the `n` peaks in `raw` ("tuning_pitch", "tuning_mag" [1, n]),
// in memory bounded by a block: the median exactly, by counting the values' order keys (their
// high 16 bits, then the low 16 bits within the buckets that hold the middle ranks), then the
// residual histogram. ref: tuning.cpp tuning_from_peaks
double tuning_from_scratch(const h5::File& raw, int64_t n, int bins_per_octave);

}  // namespace hptrain::features::detail
