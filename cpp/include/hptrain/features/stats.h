// The pooled statistics: mean and population standard deviation (numpy's std, ddof=0) of every
// row over an item's frames. Twins: features::row_stats and cuda::row_stats, held together by
// tests/cuda/stats_cuda_test.cpp (kStatsAtol, kStatsRtol).
#pragma once

#include <cstdint>

#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"

namespace hptrain::features {

// Mean and std of every row of one item x [rows, frames], written as out[2 r] = mean,
// out[2 r + 1] = std.
void row_stats(const float* x, int64_t rows, int64_t frames, float* out);

}  // namespace hptrain::features

namespace hptrain::cuda {

// features::row_stats of every item of a device batch x over its valid frames (x.valid):
// out[b * out_stride + 2 r] = mean, [... + 2 r + 1] = std. Queued on `stream`.
void row_stats(const features::FrameBatch& x, float* out, int64_t out_stride, CudaStream stream);

}  // namespace hptrain::cuda
