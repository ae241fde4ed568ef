// |X|^2 of the STFT and the arguments of its cuFFT callbacks, written once for host and device:
// the spectrum kernels (stft.cu) use them, and so do the callbacks that frame and square inside
// cuFFT's own kernels (cuda/lto), so both paths square alike (their FFTs are different cuFFT
// kernels, which agree to rounding, not bit for bit); the mel sums of the mel kernel and of the
// own FFT (stft_radix.cu). The frames: FrameSource.
#pragma once

#include <cstdint>

#include "hptrain/cuda/framing.h"
#include "hptrain/cuda/loops.h"
#include "hptrain/hd.h"

namespace hptrain::cuda::detail {

// |X|^2 of one bin in float32 from the FFT's float32 or float64 output, without FMA (as the
// CPU's complex64 arithmetic).
template <class C>
HP_HD float power_of(const C& c) {
  const float re = static_cast<float>(c.x), im = static_cast<float>(c.y);
  return add_rn(mul_rn(re, re), mul_rn(im, im));
}
// The callbacks' output already is |X|^2.
HP_HD inline float power_of(float p) {
  return p;
}

// Mel filter w summed over bins [k0, k1) of one frame's |X|^2 p, in k order and without FMA, as
// the CPU's bank_product sums the same float32 terms.
HP_HD inline float filter_sum(const float* w, const float* p, int k0, int k1) {
  float acc = 0.0f;
  for (int k = k0; k < k1; ++k) acc = add_rn(acc, mul_rn(w[k], p[k]));
  return acc;
}

#if defined(__CUDACC__)
// The mel product of `count` frames of one item whose |X|^2 rows start `stride` floats apart at
// p, the block's threads over (filter, frame), frame fastest: filter m of frame t < frames to
// out[m T + t] (out: the item's mel spectrogram at the first of these frames); the power_key of
// the largest value of the frames t < valid into key.
__device__ inline void mel_rows(const float* fb, const int* range, int n_mels, int n_bins,
                                const float* p, int stride, int count, int frames, float* out,
                                int64_t T, int64_t valid, uint32_t& key) {
  for (int i = threadIdx.x; i < n_mels * count; i += blockDim.x) {
    const int m = i / count, t = i - m * count;
    if (t >= frames) continue;
    const float acc = filter_sum(fb + static_cast<int64_t>(m) * n_bins, p + t * stride,
                                 range[2 * m], range[2 * m + 1]);
    out[m * T + t] = acc;
    if (t < valid) key = max(key, power_key(acc));
  }
}
#endif

// What the cuFFT callbacks read (device memory, one block per plan, set before each transform):
// frames from `frames`, |X|^2 of bin k of row r to power[r (n/2 + 1) + k] (frame-major).
struct StftCallbackInfo {
  FrameSource frames;
  float* power = nullptr;
};

}  // namespace hptrain::cuda::detail
