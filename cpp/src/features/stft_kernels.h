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
// |STFT|^2 (power) and/or |STFT| (mag) of one item, each [n_bins, frames]; either may be null.
void stft_item(const StftPlan& p, const float* y, int64_t n, int64_t frames, Workspace& ws,
               float* power, float* mag);

}  // namespace hptrain::features::detail
