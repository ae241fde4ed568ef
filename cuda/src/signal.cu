// Zero-crossing rate and RMS straight from the clips, one warp per frame (coalesced reads of the
// frame, a warp sum); twins of features' zcr_item and rms_item.
#include <cmath>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/framing.h"
#include "hptrain/cuda/nvtx.h"

namespace hptrain::cuda::detail {

// This stage's launchers (private to it; launch.h holds what stages share).

// librosa zero_crossing_rate (edge padding) and rms, [batch, 1, T] each.
void zcr(const Signal& s, Framing f, float threshold, bool zero_pos, int64_t T, float* out,
         cudaStream_t stream);
void rms(const Signal& s, Framing f, PadMode mode, int64_t T, float* out, cudaStream_t stream);

namespace {

constexpr int kWarpsPerBlock = 8;

unsigned warp_blocks(int64_t frames) {
  return static_cast<unsigned>((frames + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

// Sign class of a sample: zero_pos: negative or not; else -1, 0, 1 (|x| <= threshold is 0).
__device__ int sign_class(float x, float thr, bool zero_pos) {
  if (zero_pos) return x < -thr;
  return 1 + (x > thr) - (x < -thr);
}

// ref: librosa zero_crossing_rate: edge padding, then zero_crossings inside each frame (a
// crossing is a sign change from the previous sample of the frame).
__global__ void zcr_kernel(Signal s, Framing f, float thr, bool zero_pos, int64_t T, float* out) {
  const int64_t w = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (w >= s.batch * T) return;  // whole warps leave together
  const int64_t b = w / T, t = w - b * T;
  const int64_t n = s.lengths != nullptr ? s.lengths[b] : s.n_samples;
  const float* y = s.audio + b * s.n_samples;
  const int64_t start = t * f.hop - f.pad();
  int count = 0;
  for (int i = 1 + lane; i < f.frame; i += 32) {
    const float a = y[pad_index(start + i - 1, n, PadMode::edge)];
    const float c = y[pad_index(start + i, n, PadMode::edge)];
    count += sign_class(a, thr, zero_pos) != sign_class(c, thr, zero_pos);
  }
  for (int o = 16; o > 0; o /= 2) count += __shfl_xor_sync(0xffffffffu, count, o);
  if (lane == 0) out[w] = static_cast<float>(static_cast<double>(count) / f.frame);
}

// ref: librosa rms(y=...): sqrt(mean(x**2)) over each padded frame; float32 squares, float64 sum.
__global__ void rms_kernel(Signal s, Framing f, PadMode mode, int64_t T, float* out) {
  const int64_t w = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (w >= s.batch * T) return;
  const int64_t b = w / T, t = w - b * T;
  const int64_t n = s.lengths != nullptr ? s.lengths[b] : s.n_samples;
  const float* y = s.audio + b * s.n_samples;
  const int64_t start = t * f.hop - f.pad();
  double sum = 0;
  for (int i = lane; i < f.frame; i += 32) {
    const int64_t j = pad_index(start + i, n, mode);
    const float x = j >= 0 ? y[j] : 0.0f;
    sum += static_cast<double>(x * x);
  }
  for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  if (lane == 0) out[w] = static_cast<float>(sqrt(fmax(0.0, sum) / f.frame));
}

}  // namespace

void zcr(const Signal& s, Framing f, float threshold, bool zero_pos, int64_t T, float* out,
         cudaStream_t stream) {
  if (s.batch * T == 0) return;
  zcr_kernel<<<warp_blocks(s.batch * T), 32 * kWarpsPerBlock, 0, stream>>>(s, f, threshold,
                                                                           zero_pos, T, out);
  HP_CHECK_LAUNCH();
}

void rms(const Signal& s, Framing f, PadMode mode, int64_t T, float* out, cudaStream_t stream) {
  if (s.batch * T == 0) return;
  rms_kernel<<<warp_blocks(s.batch * T), 32 * kWarpsPerBlock, 0, stream>>>(s, f, mode, T, out);
  HP_CHECK_LAUNCH();
}

}  // namespace hptrain::cuda::detail

namespace hptrain::cuda {

void zero_crossing_rate(const features::ZcrConfig& cfg, const Signal& audio, float* out,
                        cudaStream_t stream) {
  HP_NVTX_RANGE("zcr");
  const Framing f{cfg.frame_length, cfg.hop_length, cfg.center};
  // |x| <= threshold in float64 is |x| <= thr for the largest float thr <= threshold
  float thr = static_cast<float>(cfg.threshold);
  if (static_cast<double>(thr) > cfg.threshold) thr = std::nextafter(thr, 0.0f);
  detail::zcr(audio, f, thr, cfg.zero_pos, features::frame_count(f, audio.n_samples, "zcr"), out,
              stream);
}

void rms(const features::RmsConfig& cfg, const Signal& audio, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("rms");
  const Framing f{cfg.frame_length, cfg.hop_length, cfg.center};
  detail::rms(audio, f, features::parse_pad_mode(cfg.pad_mode),
              features::frame_count(f, audio.n_samples, "rms"), out, stream);
}

}  // namespace hptrain::cuda
