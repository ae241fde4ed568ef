// The STFT stage: |librosa.stft(y)|**power of a batch of clips, [batch, 1 + n_fft/2, frames],
// float32. Twins: features::stft (FFTW, float64 FFT) and cuda::stft (cuFFT or the own FFT), held
// together by tests/cuda/stft_cuda_test.cpp (kStftAtol, kStftRtol).
#pragma once

#include <cstdint>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// The frames of cfg's STFT.
inline Framing stft_framing(const StftConfig& cfg) {
  return Framing{cfg.n_fft, cfg.hop(), cfg.center};
}

// |librosa.stft(y)|**power: [batch, 1 + n_fft/2, n_frames].
void stft(const StftConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out,
          double power = 1.0);

}  // namespace hptrain::features

namespace hptrain::cuda {

// Whether FftFraming::radix takes this STFT (n_fft, hop) with a float32 FFT.
bool radix_fits(const features::StftConfig& cfg);

// |librosa.stft(y)|**power [batch, 1 + n_fft/2, T] of the clips `audio` (device); the FFT in
// float64 (librosa's numpy FFT) unless fft_f64 is false (float32: faster, contrast valleys then
// move by up to a few dB). Frames at or past an item's own frame count hold unspecified finite
// values.
void stft(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
          const features::Signal& audio, float* out, double power, CudaStream stream,
          bool fft_f64 = true);

// The STFT's |X| (mag), |X|^2 (power) and |X|^exponent (spec) at once, each when not null.
void stft_spectra(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
                  const features::Signal& audio, float* mag, float* power, float* spec,
                  double exponent, CudaStream stream, bool fft_f64 = true);

// librosa.feature.melspectrogram(y, power=2) without the power spectrogram in memory: the
// STFT's framing and FFT as stft_spectra, then |X|^2 and the mel product in one kernel (each
// filter summed over its nonzero bins in k order, as the CPU). mel_range: mel_bin_ranges of
// mel_fb, on the device. Needs stft_mel_fits(cfg); out [batch, n_mels, T]. With maxima (of
// `batch` items), each item's largest mel value too.
void stft_mel(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
              const features::Signal& audio, const float* mel_fb, const int* mel_range, int n_mels,
              float* out, CudaStream stream, bool fft_f64 = true, ItemMaxima* maxima = nullptr);
// Whether stft_mel's tile of frames fits shared memory at this n_fft (up to n_fft 24569).
bool stft_mel_fits(const features::StftConfig& cfg);
// Each filter's nonzero bins of a dense bank [n_mels, n_bins] as pairs [first, last + 1)
// ([0, 0) for an all-zero filter).
std::vector<int> mel_bin_ranges(const std::vector<float>& mel_fb, int n_mels, int n_bins);

}  // namespace hptrain::cuda
