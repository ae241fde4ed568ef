// Framing arithmetic shared by host and device (HP_HD): frame counts of padded clips, librosa's
// pad modes, the STFT's windowed frames, valid frames of variable-length items, spectral-contrast
// bands, and division by a divisor fixed ahead.
#pragma once

#include <cstdint>

#include "hptrain/hd.h"

namespace hptrain::cuda {

// n / d for any 32-bit n by a divisor d >= 1 fixed ahead (Granlund and Montgomery's round-up
// method): one multiply-high, an add and a shift where a GPU's integer division costs tens of
// instructions.
struct FastDiv {
  uint32_t d = 1, m = 1;
  int l = 0;
  FastDiv() = default;
  HP_HD explicit FastDiv(uint32_t divisor) : d(divisor) {
    while ((uint64_t{1} << l) < d) ++l;  // l = ceil(log2 d)
    // m = floor(2^32 (2^l - d) / d) + 1 < 2^32, since 2^l - d < d
    m = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << l) - d)) / d + 1);
  }
  HP_HD uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint64_t hi = __umulhi(m, n);
#else
    const uint64_t hi = (static_cast<uint64_t>(m) * n) >> 32;
#endif
    return static_cast<uint32_t>((hi + n) >> l);
  }
};

// A framing of a signal: frames of `frame` samples every `hop`, padded by frame / 2 each side
// when centred (librosa's center=True).
struct Framing {
  int frame = 0;
  int hop = 1;
  bool center = true;
  HP_HD int64_t pad() const { return center ? frame / 2 : 0; }
  // 1 + (n + 2 pad - frame) // hop; 0 when the padded signal is shorter than one frame.
  HP_HD int64_t frames(int64_t n) const {
    const int64_t padded = n + 2 * pad();
    return padded < frame ? 0 : 1 + (padded - frame) / hop;
  }
};

// numpy.pad modes: constant (zeros) | edge | reflect (without repeating the edge sample).
enum class PadMode : int { constant = 0, edge = 1, reflect = 2 };

// Index into y[0, n) of sample j of the padded signal's unpadded coordinates (j may be < 0 or
// >= n); -1 for a zero (constant padding). Matches features' PaddedSignal.
HP_HD inline int64_t pad_index(int64_t j, int64_t n, PadMode mode) {
  if (j >= 0 && j < n) return j;
  if (mode == PadMode::constant) return -1;
  if (mode == PadMode::edge) return j < 0 ? 0 : n - 1;
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  j = ((j % period) + period) % period;
  return j < n ? j : period - j;
}

// A batch of clips [batch, n_samples], item b holding its first length(b) samples.
struct Signal {
  const float* audio = nullptr;
  const int64_t* lengths = nullptr;  // [batch]; null: every item is n_samples long
  int64_t batch = 0;
  int64_t n_samples = 0;
};

// The frames of a batch as rows of a cuFFT input, row b T + t for frame t of item b: value i is
// window[i] * y_b(t hop + i - pad) in float64 (librosa multiplies its float64 window into the
// float32 frame), 0 outside the window's span [lo, hi) and where constant padding reads. The
// framing kernel writes these values; the STFT's cuFFT load callback reads them one by one.
struct FrameSource {
  Signal s;
  Framing f;
  PadMode mode = PadMode::constant;
  const double* window = nullptr;  // [f.frame]
  int lo = 0, hi = 0;
  int64_t T = 0;        // frames per item
  FastDiv per_item;     // division by T
  int log2_stride = 0;  // at(): rows 2^log2_stride values apart (>= f.frame)

  HP_HD double value(int64_t b, int64_t t, int i) const {
    if (i < lo || i >= hi) return 0.0;
    const int64_t n = s.lengths != nullptr ? s.lengths[b] : s.n_samples;
    const int64_t j = pad_index(t * f.hop + i - f.pad(), n, mode);
    return j < 0 ? 0.0 : window[i] * static_cast<double>(s.audio[b * s.n_samples + j]);
  }
  // Value `offset` of rows laid out 2^log2_stride apart (a shift and a mask, no division by
  // n_fft); rows < 2^32. Values at i >= f.frame of a row are 0.
  HP_HD double at(uint64_t offset) const {
    const auto row = static_cast<uint32_t>(offset >> log2_stride);
    const auto i = static_cast<int>(offset & ((uint64_t{1} << log2_stride) - 1));
    const uint32_t b = per_item.div(row);
    return i < f.frame ? value(b, row - static_cast<int64_t>(b) * T, i) : 0.0;
  }
};

// log2 of the power of two at or above n: the row stride of FrameSource::at for n-point FFTs.
HP_HD inline int log2_ceil(int n) {
  int l = 0;
  while ((1 << l) < n) ++l;
  return l;
}

// Frames of item b that come from its own samples: framing.frames(length of b).
struct ValidFrames {
  const int64_t* lengths = nullptr;  // device, [batch]; null: every item has n_samples
  int64_t n_samples = 0;
  Framing framing;
  HP_HD int64_t operator()(int64_t b) const {
    return framing.frames(lengths != nullptr ? lengths[b] : n_samples);
  }
};

// scipy.ndimage modes of librosa.feature.delta (interp: polynomial fit at the edges).
enum class DeltaMode : int { interp = 0, nearest = 1, mirror = 2, constant = 3, wrap = 4 };

// Spectral-contrast sub-bands: bins [first, first + count), quantile size q (<= kMaxQ).
struct Bands {
  static constexpr int kMax = 16;
  static constexpr int kMaxQ = 64;
  int n = 0;
  int first[kMax] = {};
  int count[kMax] = {};
  int q[kMax] = {};
};

}  // namespace hptrain::cuda
