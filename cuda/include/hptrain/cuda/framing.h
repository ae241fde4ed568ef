// Framing arithmetic shared by host and device (HP_HD): frame counts of padded clips, librosa's
// pad modes, valid frames of variable-length items, spectral-contrast bands.
#pragma once

#include <cstdint>

#include "hptrain/hd.h"

namespace hptrain::cuda {

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
