// The tables every feature is computed from, exactly as the CPU path uses them (librosa's window,
// mel and chroma filter banks, DCT-II, Savitzky-Golay weights, spectral-contrast bands, piptrack's
// range): the one door to them for the GPU twins (cuda/), which read it as plain data and never
// link or call hp_features. Banks [rows, 1 + n_fft/2], row-major, float32.
#pragma once

#include <memory>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/contrast.h"
#include "hptrain/features/tuning.h"

namespace hptrain::features {

// Chroma banks of every tuning estimate_tuning can return: bank i < tuning::kBins is
// tuning::edge(i), the last the "no pitch" tuning 0.0.
constexpr int kTuningBanks = tuning::kBins + 1;

// Plain data, so that hp_cuda reads it without linking hp_features.
struct FeatureTables {
  std::vector<double> window;     // [n_fft]: stft_window(cfg.stft), float64 as librosa's
  std::vector<float> mel_fb;      // [n_mels, n_bins]: mel_filter_bank(cfg.mel, sr, n_fft)
  std::vector<float> dct;         // [n_mfcc, n_mels]: DCT-II rows (cfg.mfcc.norm), lifter folded in
  std::vector<double> savgol[2];  // delta orders 1, 2: [pos * width + j], scipy's savgol_coeffs
  ContrastBands bands;            // spectral contrast: contrast_bands(cfg.contrast, sr, n_fft)
  int pip_lo = 0, pip_hi = 0;     // estimate_tuning's piptrack bins [lo, hi)
  // chroma_filter_bank(cfg.chroma, sr, n_fft, tuning) [n_chroma, n_bins] of the tunings chroma
  // uses: with chroma.tuning set, that tuning's bank (chroma_banks empty); with None, every
  // tuning estimate_tuning can return, [kTuningBanks, n_chroma, n_bins] (chroma_fixed empty).
  std::vector<float> chroma_fixed;
  std::vector<float> chroma_banks;
};

// The tables of a validated config, built at the first call per config and shared (with the
// CPU's plan, whose cache holds them).
std::shared_ptr<const FeatureTables> feature_tables(const FeatureConfig& cfg);

}  // namespace hptrain::features
