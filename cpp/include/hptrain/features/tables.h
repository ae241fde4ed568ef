// The tables every feature is computed from, exactly as the CPU path uses them (librosa's window,
// mel and chroma filter banks, DCT-II, Savitzky-Golay weights, spectral-contrast bands, piptrack's
// range): the one door to them for the GPU twins (cuda/), which cannot link hp_features.
// Banks [rows, 1 + n_fft/2], row-major, float32.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "hptrain/features/config.h"

namespace hptrain::features {

// Plain data and one callable, so that hp_cuda reads it without linking hp_features.
struct FeatureTables {
  std::vector<double> window;     // [n_fft]: stft_window(cfg.stft), float64 as librosa's
  std::vector<float> mel_fb;      // [n_mels, n_bins]: mel_filter_bank(cfg.mel, sr, n_fft)
  std::vector<float> dct;         // [n_mfcc, n_mels]: DCT-II rows (cfg.mfcc.norm), lifter folded in
  std::vector<double> savgol[2];  // delta orders 1, 2: [pos * width + j], scipy's savgol_coeffs
  std::vector<int> band_first;    // spectral-contrast band b: bins [first, first + count),
  std::vector<int> band_count;    // quantile size q (mean of the q smallest / largest bins)
  std::vector<int> band_q;
  int pip_lo = 0, pip_hi = 0;  // estimate_tuning's piptrack bins [lo, hi)
  // chroma_filter_bank(cfg.chroma, sr, n_fft, tuning) [n_chroma, n_bins], made once per tuning.
  std::function<std::shared_ptr<const std::vector<float>>(double tuning)> chroma_fb;
};

// The tables of a validated config, built once per config and shared (the CPU's plan cache).
std::shared_ptr<const FeatureTables> feature_tables(const FeatureConfig& cfg);

}  // namespace hptrain::features
