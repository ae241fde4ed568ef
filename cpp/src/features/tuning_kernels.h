// librosa.estimate_tuning of one item on the CPU (private to hp_features; tuning.cpp): piptrack's
// peaks, whole or gathered window by window. Power [n_bins, frames], float32.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels.h"

namespace hptrain::features::detail {

// piptrack's frequency range [lo, hi) in bins: fmin 150 <= f < min(4000, sr / 2).
struct PiptrackRange {
  int lo, hi;
};
PiptrackRange piptrack_range(int sr, int n_fft);
double estimate_tuning_item(const float* power, int n_bins, int64_t frames, int sr, int n_fft,
                            PiptrackRange range, int bins_per_octave, Workspace& ws);
// estimate_tuning_item in two steps, for a file streamed in windows: the piptrack peaks (pitch,
// magnitude) of frames [t_begin, t_end) appended (each frame's peaks depend on that frame only),
// then the tuning of all the peaks gathered (order does not matter: a median and a histogram).
void tuning_peaks(const float* power, int n_bins, int64_t frames, int64_t t_begin, int64_t t_end,
                  int sr, int n_fft, PiptrackRange range, Workspace& ws,
                  std::vector<float>& pitches, std::vector<float>& mags);
double tuning_from_peaks(const std::vector<float>& pitches, const std::vector<float>& mags,
                         int bins_per_octave);

}  // namespace hptrain::features::detail
