// Windows and filter banks as librosa 0.11 builds them (get_window, filters.mel,
// filters.chroma): float64 arithmetic; the banks are returned as float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hptrain/features/config.h"

namespace hptrain::features {

// Frequency of FFT bin k in Hz: numpy.fft.rfftfreq(n_fft, d=1/sr)[k] (librosa.fft_frequencies).
double fft_frequency(int k, int sr, int n_fft);

// librosa.hz_to_mel / mel_to_hz (Slaney by default, HTK when htk).
double hz_to_mel(double hz, bool htk);
double mel_to_hz(double mel, bool htk);

// get_window(window, win_length, fftbins=True) zero-padded and centred to n_fft
// (librosa.util.pad_center). Throws ConfigError for an unknown window.
std::vector<double> stft_window(const StftConfig& cfg);

// librosa.filters.mel(sr, n_fft, ...): [n_mels, 1 + n_fft/2], row-major.
std::vector<float> mel_filter_bank(const MelConfig& cfg, int sr, int n_fft);

// librosa.filters.chroma(sr, n_fft, n_chroma, tuning, ctroct, octwidth, norm, base_c):
// [n_chroma, 1 + n_fft/2], row-major.
std::vector<float> chroma_filter_bank(const ChromaConfig& cfg, int sr, int n_fft, double tuning);

}  // namespace hptrain::features
