// The STFT of one item on the CPU (private to hp_features; stft.cpp): window, the shared
// FFTW plan of an n_fft, |X|^2 and |X| bin-major [n_bins, frames].
#pragma once

#include <fftw3.h>

#include <cstdint>
#include <vector>

#include "hptrain/features/framing.h"
#include "hptrain/features/stft.h"
#include "kernels.h"

namespace hptrain::features::detail {

// The STFT of a config: window and the shared FFTW plan (made once per n_fft, never freed).
struct StftPlan {
  explicit StftPlan(const StftConfig& cfg);
  StftConfig cfg;
  int n_fft, n_bins, hop;
  PadMode pad_mode;
  std::vector<double> window;  // [n_fft], librosa's float64 window
  fftw_plan fft;
};
// |STFT|^2 (power) and/or |STFT| (mag) of frames [t_begin, t_end) of one item, written in their
// columns of [n_bins, frames]; either may be null. t_begin a multiple of kFftBlock: the frames
// go through FFTW in the blocks of the whole item, so a range gives its columns bit for bit.
void stft_frames(const StftPlan& p, const float* y, int64_t n, int64_t frames, int64_t t_begin,
                 int64_t t_end, Workspace& ws, float* power, float* mag);
// All frames of one item.
inline void stft_item(const StftPlan& p, const float* y, int64_t n, int64_t frames, Workspace& ws,
                      float* power, float* mag) {
  stft_frames(p, y, n, frames, 0, frames, ws, power, mag);
}

}  // namespace hptrain::features::detail
