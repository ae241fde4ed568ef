// Framing of a signal, once for both devices (HP_HD): frame counts of padded clips, numpy.pad's
// modes and scipy.ndimage's delta modes as enums parsed once from the config, valid frames of
// variable-length items, and the batch views (Signal, FrameBatch) both devices' twins take. Samples
// and frames are counts; indices into a clip [0, n).
#pragma once

#include <cstdint>
#include <string>

#include "hptrain/error.h"
#include "hptrain/hd.h"

namespace hptrain::features {

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

// Framing::frames of a clip of n_samples, with the errors both devices give: InputError naming
// `what` (stft, zcr, rms) when the clip is empty or shorter than one frame.
inline int64_t frame_count(Framing f, int64_t n_samples, const char* what) {
  if (n_samples <= 0) throw InputError(std::string(what) + ": empty signal");
  const int64_t frames = f.frames(n_samples);
  if (frames == 0) {
    throw InputError(std::string(what) + ": " + std::to_string(n_samples) +
                     " samples are fewer than frame_length=" + std::to_string(f.frame) +
                     " with center=false");
  }
  return frames;
}

// numpy.pad modes: constant (zeros) | edge | reflect (without repeating the edge sample).
enum class PadMode : int { constant = 0, edge = 1, reflect = 2 };

// StftConfig::pad_mode and RmsConfig::pad_mode as a PadMode.
inline PadMode parse_pad_mode(const std::string& mode) {
  if (mode == "edge") return PadMode::edge;
  if (mode == "reflect") return PadMode::reflect;
  if (mode == "constant") return PadMode::constant;
  throw ConfigError("pad_mode = '" + mode + "': must be one of constant, edge, reflect");
}

// ref: numpy.pad(mode='constant' | 'edge' | 'reflect'). Index into y[0, n) of sample j of the
// padded signal's unpadded coordinates (j may be < 0 or >= n); -1 for a zero (constant padding).
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
  const int64_t* lengths = nullptr;  // [batch] (device memory on the GPU); null: n_samples each
  int64_t n_samples = 0;
  Framing framing;
  HP_HD int64_t operator()(int64_t b) const {
    return framing.frames(lengths != nullptr ? lengths[b] : n_samples);
  }
};

// A batch of clips [batch, n_samples] in one device's memory, item b holding its first
// lengths[b] samples (the rest padding).
struct Signal {
  const float* audio = nullptr;
  const int64_t* lengths = nullptr;  // [batch]; null: every item is n_samples long
  int64_t batch = 0;
  int64_t n_samples = 0;
};

// A batch of feature arrays [batch, rows, frames] (float32, row-major) in one device's memory,
// and the frames of each item that are its own (the rest, of a ragged batch, padding).
struct FrameBatch {
  const float* data = nullptr;
  int64_t batch = 0;
  int rows = 0;
  int64_t frames = 0;
  ValidFrames valid;
};

// scipy.ndimage modes of librosa.feature.delta (interp: polynomial fit at the edges).
enum class DeltaMode : int { interp = 0, nearest = 1, mirror = 2, constant = 3, wrap = 4 };

// DeltaConfig::mode as a DeltaMode.
inline DeltaMode parse_delta_mode(const std::string& mode) {
  if (mode == "interp") return DeltaMode::interp;
  if (mode == "nearest") return DeltaMode::nearest;
  if (mode == "mirror") return DeltaMode::mirror;
  if (mode == "constant") return DeltaMode::constant;
  if (mode == "wrap") return DeltaMode::wrap;
  throw ConfigError("delta.mode = '" + mode +
                    "': must be one of interp, nearest, mirror, constant, wrap");
}

// ref: scipy.ndimage (convolve1d) modes. Index into a row of `frames` values of frame j
// (j may be < 0 or >= frames); -1 for a zero (constant, and interp before its refit).
HP_HD inline int64_t delta_index(int64_t j, int64_t frames, DeltaMode mode) {
  if (j >= 0 && j < frames) return j;
  switch (mode) {
    case DeltaMode::nearest:
      return j < 0 ? 0 : frames - 1;
    case DeltaMode::wrap:
      return ((j % frames) + frames) % frames;
    case DeltaMode::mirror: {
      if (frames == 1) return 0;
      const int64_t period = 2 * (frames - 1);
      j = ((j % period) + period) % period;
      return j < frames ? j : period - j;
    }
    default:
      return -1;
  }
}

}  // namespace hptrain::features
