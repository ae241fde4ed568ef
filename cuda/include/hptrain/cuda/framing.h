// The GPU STFT's framing on host and device (HP_HD): the windowed frames the framing kernel and
// the cuFFT load callback read, spectral-contrast bands, and division by a divisor fixed ahead.
// Frame counts, pad and delta modes are the features' (hptrain/features/framing.h).
#pragma once

#include <cstdint>
#include <type_traits>

#include "hptrain/features/framing.h"
#include "hptrain/hd.h"

namespace hptrain::cuda {

// The framing both devices share, by its names in the kernels
using features::DeltaMode;
using features::FrameBatch;
using features::Framing;
using features::pad_index;
using features::PadMode;
using features::Signal;
using features::ValidFrames;

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

// log2 of the power of two at or above n: the row stride of FrameSource::at for n-point FFTs.
HP_HD inline int log2_ceil(int n) {
  int l = 0;
  while ((1 << l) < n) ++l;
  return l;
}

// The frames of a batch as rows of a cuFFT input, row b T + t for frame t of item b: value i is
// window[i] * y_b(t hop + i - pad), 0 outside the window's span [lo, hi) and where constant
// padding reads. For the float64 FFT the product is float64 (librosa multiplies its float64
// window into the float32 frame); for the float32 FFT it is float32, of the window rounded to
// float32 (window32): a float64 product and two conversions per value were most of what the
// callbacks cost. Indices within an item are 32-bit (n_samples + 2 frame < 2^31, rows < 2^31:
// features.cpp checks both). The framing kernel writes these values; the STFT's cuFFT load
// callback reads them one by one.
struct FrameSource {
  Signal s;
  Framing f;
  PadMode mode = PadMode::constant;
  const double* window = nullptr;   // [f.frame], the float64 FFT's
  const float* window32 = nullptr;  // [f.frame], the float32 FFT's
  int lo = 0, hi = 0;               // 0 <= lo <= hi <= f.frame
  int pad = 0;                      // f.pad()
  int64_t T = 0;                    // frames per item: f.frames(s.n_samples)
  FastDiv per_item;                 // division by T
  int log2_stride = 0;              // at(): rows 2^log2_stride values apart (>= f.frame)

  FrameSource() = default;
  // The window spans [lo, hi) of the frame.
  HP_HD FrameSource(Signal signal, Framing framing, PadMode pad_mode, const double* window64,
                    const float* window_f32, int first, int end)
      : s(signal),
        f(framing),
        mode(pad_mode),
        window(window64),
        window32(window_f32),
        lo(first),
        hi(end),
        pad(static_cast<int>(framing.pad())),
        T(framing.frames(signal.n_samples)),
        per_item(static_cast<uint32_t>(T > 0 ? T : 1)),
        log2_stride(log2_ceil(framing.frame)) {}

  // Item b's length.
  HP_HD int length(uint32_t b) const {
    return static_cast<int>(s.lengths != nullptr ? load_global(s.lengths + b) : s.n_samples);
  }
  // Sample j of item b's padded signal, j in the unpadded coordinates (may be < 0 or >= n, the
  // item's length): 0 where constant padding reads.
  HP_HD float sample(uint32_t b, int j, int n) const {
    if (static_cast<uint32_t>(j) >= static_cast<uint32_t>(n)) {  // padding: edge frames only
      j = static_cast<int>(pad_index(j, n, mode));
      if (j < 0) return 0.0f;
    }
    return load_global(s.audio + uint64_t{b} * static_cast<uint32_t>(s.n_samples) +
                       static_cast<uint32_t>(j));
  }
  // Whether value i of a frame is in the window's span (0 outside it, the sample unread).
  HP_HD bool in_span(int i) const {
    return static_cast<uint32_t>(i - lo) < static_cast<uint32_t>(hi - lo);
  }
  // Value i of frame t of item b as R: double (the float64 FFT) or float.
  template <class R>
  HP_HD R value(uint32_t b, uint32_t t, int i) const {
    if (!in_span(i)) return R(0);
    const float y = sample(b, static_cast<int>(t) * f.hop + i - pad, length(b));
    if constexpr (std::is_same_v<R, double>) {
      return load_global(window + i) * static_cast<double>(y);
    } else {
      return load_global(window32 + i) * y;
    }
  }
  // Value i of row b T + t (the item by per_item's multiply-high, not a division).
  template <class R>
  HP_HD R row_value(uint32_t row, int i) const {
    const uint32_t b = per_item.div(row);
    return value<R>(b, row - b * static_cast<uint32_t>(T), i);
  }
  // Value `offset` of rows laid out 2^log2_stride apart (a shift and a mask, no division by
  // n_fft). Values at i >= f.frame of a row are 0 (i >= hi).
  template <class R>
  HP_HD R at(uint64_t offset) const {
    const auto i = static_cast<int>(static_cast<uint32_t>(offset) & ((1u << log2_stride) - 1));
    return row_value<R>(static_cast<uint32_t>(offset >> log2_stride), i);
  }
};

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
