// Parameters of every feature, named and defaulted as librosa 0.11's functions (None =
// std::optional), and presets "speech" and "librosa-default". Plain C++ (hp_cuda reads it); TOML
// reading and HDF5 attributes are in config_io.h.
#pragma once

#include <limits>
#include <optional>
#include <ostream>
#include <string>

namespace hptrain::features {

// librosa.stft (and the `_spectrogram` helper every S-based feature calls).
struct StftConfig {
  int n_fft = 2048;
  std::optional<int> hop_length;      // None: win_length // 4
  std::optional<int> win_length;      // None: n_fft; shorter windows are zero-padded and centred
  std::string window = "hann";        // periodic (fftbins=True): hann | hamming | blackman | boxcar
  bool center = true;                 // pad n_fft // 2 each side
  std::string pad_mode = "constant";  // constant (zeros) | edge | reflect

  int win() const { return win_length.value_or(n_fft); }
  int hop() const { return hop_length.value_or(win() / 4); }
  void validate() const;
};

// librosa.filters.mel and librosa.feature.melspectrogram.
struct MelConfig {
  int n_mels = 128;
  double fmin = 0.0;
  std::optional<double> fmax;                  // None: sr / 2
  bool htk = false;                            // HTK mel scale instead of Slaney's
  std::optional<std::string> norm = "slaney";  // "slaney" (area) or None
  double power = 2.0;                          // exponent of |STFT| before the filter bank

  double fmax_or(int sr) const { return fmax.value_or(sr / 2.0); }
  void validate(int sr) const;
};

// librosa.power_to_db (used for log-mel, the MFCC input).
struct DbConfig {
  double ref = 1.0;
  double amin = 1e-10;
  std::optional<double> top_db = 80.0;  // floor at max - top_db, per item of a batch
  void validate() const;
};

// librosa.feature.mfcc on the log-mel above (scipy.fftpack.dct).
struct MfccConfig {
  int n_mfcc = 20;
  int dct_type = 2;                           // only 2 is implemented
  std::optional<std::string> norm = "ortho";  // "ortho" or None
  double lifter = 0.0;                        // 0: none; > 0: 1 + lifter/2 sin(pi k / lifter)
  void validate(int n_mels) const;
};

// librosa.feature.delta (scipy.signal.savgol_filter), applied with order 1 and 2.
struct DeltaConfig {
  int width = 9;                // odd, >= 3
  std::string mode = "interp";  // interp | nearest | mirror | constant | wrap
  void validate() const;
};

// librosa.feature.chroma_stft and librosa.filters.chroma.
struct ChromaConfig {
  int n_chroma = 12;
  std::optional<double> tuning;  // None: estimate_tuning(S=|D|^2) as chroma_stft does
  std::optional<double> norm = std::numeric_limits<double>::infinity();  // output norm
  double ctroct = 5.0;                   // filters.chroma: centre octave of the weighting
  std::optional<double> octwidth = 2.0;  // filters.chroma: None = flat weighting
  std::optional<double> fb_norm = 2.0;   // filters.chroma `norm` of each column
  bool base_c = true;                    // filters.chroma: first row is C, not A
  void validate() const;
};

// librosa.feature.spectral_contrast (on |STFT|, power 1).
struct ContrastConfig {
  double fmin = 200.0;
  int n_bands = 6;
  double quantile = 0.02;
  bool linear = false;  // false: power_to_db(peak) - power_to_db(valley)
  void validate(int sr) const;
};

// librosa.feature.zero_crossing_rate (edge padding when centred).
struct ZcrConfig {
  int frame_length = 2048;
  int hop_length = 512;
  bool center = true;
  double threshold = 1e-10;  // |y| <= threshold counts as 0
  bool zero_pos = true;      // 0 counts as positive
  void validate() const;
};

// librosa.feature.rms from y.
struct RmsConfig {
  int frame_length = 2048;
  int hop_length = 512;
  bool center = true;
  std::string pad_mode = "constant";  // constant | edge | reflect
  void validate() const;
};

struct FeatureConfig {
  int sr = 22050;
  StftConfig stft;
  MelConfig mel;
  DbConfig db;
  MfccConfig mfcc;
  DeltaConfig delta;
  ChromaConfig chroma;
  ContrastConfig contrast;
  ZcrConfig zcr;
  RmsConfig rms;
  int threads = 0;  // worker threads of extract() over the batch; 0 = hardware_concurrency
  // The GPU path's FFT: "float64" (librosa's numpy FFT; cuFFT Z2Z) or "float32" (the own radix
  // FFT where it fits, else cuFFT C2C): faster, and farther from librosa (README, "The GPU
  // feature path"). The CPU path's FFT is float64 whatever this says.
  std::string fft_precision = "float64";
  void validate() const;
};

// "speech" | "librosa-default": exactly the parameters of tests/data/reference/README.md.
FeatureConfig preset(const std::string& name);
// One line per parameter ("mel.n_mels = 64"), for logs.
std::ostream& operator<<(std::ostream& os, const FeatureConfig& cfg);

}  // namespace hptrain::features
