// Pooled statistics: mean and population std (ddof 0) of every row over each item's own valid
// frames, one warp per row, float64 sums; twin of features::row_stats.
#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/framing.h"

namespace hptrain::cuda::detail {

// This stage's launcher (private to it; launch.h holds what stages share).

// Mean and std (ddof 0) over each item's valid frames of every row of x [batch, rows, T]:
// out[b * out_stride + 2 r] = mean, [... + 2 r + 1] = std.
void row_stats(const float* x, int64_t batch, int rows, int64_t T, ValidFrames v, float* out,
               int64_t out_stride, cudaStream_t stream);

namespace {

constexpr int kWarpsPerBlock = 8;

__device__ double warp_sum(double v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void row_stats_kernel(const float* x, int64_t batch, int rows, int64_t T, ValidFrames v,
                                 float* out, int64_t out_stride) {
  const int64_t w = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (w >= batch * rows) return;
  const int64_t b = w / rows, r = w - b * rows;
  const int64_t frames = v(b);  // frames past the clip's end never enter its statistics
  const float* row = x + w * T;
  double s = 0;
  for (int64_t t = lane; t < frames; t += 32) s += row[t];
  const double mean = warp_sum(s) / frames;
  double ss = 0;
  for (int64_t t = lane; t < frames; t += 32) ss += (row[t] - mean) * (row[t] - mean);
  ss = warp_sum(ss);
  if (lane == 0) {
    out[b * out_stride + 2 * r] = static_cast<float>(mean);
    out[b * out_stride + 2 * r + 1] = static_cast<float>(sqrt(ss / frames));
  }
}

}  // namespace

void row_stats(const float* x, int64_t batch, int rows, int64_t T, ValidFrames v, float* out,
               int64_t out_stride, cudaStream_t stream) {
  const int64_t warps = batch * rows;
  if (warps == 0) return;
  row_stats_kernel<<<static_cast<unsigned>((warps + kWarpsPerBlock - 1) / kWarpsPerBlock),
                     32 * kWarpsPerBlock, 0, stream>>>(x, batch, rows, T, v, out, out_stride);
  HP_CHECK_LAUNCH();
}

}  // namespace hptrain::cuda::detail

namespace hptrain::cuda {

void row_stats(const FrameBatch& x, float* out, int64_t out_stride, cudaStream_t stream) {
  detail::row_stats(x.data, x.batch, x.rows, x.frames, x.valid, out, out_stride, stream);
}

}  // namespace hptrain::cuda
