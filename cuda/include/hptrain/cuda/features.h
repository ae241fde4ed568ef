// GPU twins of hptrain/features/cpu.h: the same functions and layout ([batch, rows, frames],
// float32, row-major) on device pointers, queued on a caller-given stream, never synchronising.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "hptrain/cuda/resources.h"
#include "hptrain/features/config.h"

namespace hptrain::cuda {

// What the twins share on one thread: a cuBLAS handle and the cuFFT plans, cached per shape;
// each made at its first use (constructing a Context touches no device).
class Context {
 public:
  cublasHandle_t blas(cudaStream_t stream);  // bound to `stream`
  const FftPlan& fft(const FftKey& key);

 private:
  std::unique_ptr<BlasHandle> blas_;
  std::map<FftKey, FftPlan> plans_;
};

// The tables the twins take, built on the host by the CPU code (hp_features; see
// host_tables() in extract.h) and uploaded once per configuration.
struct DeviceTables {
  DeviceBuffer<double> window;     // [n_fft], librosa's float64 window centred in n_fft
  DeviceBuffer<float> mel_fb;      // [n_mels, 1 + n_fft/2]
  DeviceBuffer<float> dct;         // [n_mfcc, n_mels], lifter folded in
  DeviceBuffer<double> savgol[2];  // delta orders 1 and 2: [width, width]
};

// Per-item clip lengths (device, [batch], each in [1, n_samples]) or null when all are
// n_samples. Frames at or past an item's own frame count hold unspecified finite values, and
// are left out of its power_to_db maximum, deltas and statistics.
using Lengths = const int64_t*;

// |librosa.stft(y)|**power [batch, 1 + n_fft/2, T]; the FFT in float64 (librosa's numpy FFT)
// unless fft_f64 is false (float32: faster, contrast valleys then move by up to a few dB).
void stft(Context& ctx, const features::StftConfig& cfg, const double* window, const float* audio,
          Lengths lengths, int64_t batch, int64_t n_samples, float* out, double power,
          cudaStream_t stream, bool fft_f64 = true);

// The STFT's |X| (mag), |X|^2 (power) and |X|^exponent (spec) at once, each when not null.
void stft_spectra(Context& ctx, const features::StftConfig& cfg, const double* window,
                  const float* audio, Lengths lengths, int64_t batch, int64_t n_samples, float* mag,
                  float* power, float* spec, double exponent, cudaStream_t stream,
                  bool fft_f64 = true);

// out [batch, rows, frames] = bank [rows, cols] @ in [batch, cols, frames] (cuBLAS, float32):
// the mel and chroma filter banks and the DCT of MFCC.
void bank_product(Context& ctx, const float* bank, int rows, int cols, const float* in,
                  int64_t batch, int64_t frames, float* out, cudaStream_t stream);

// librosa.feature.melspectrogram(S=spec): mel_fb @ spec; spec [batch, 1 + n_fft/2, frames].
void mel_spectrogram(Context& ctx, const features::MelConfig& cfg, const float* mel_fb,
                     const float* spec, int64_t batch, int n_bins, int64_t frames, float* out,
                     cudaStream_t stream);

// librosa.power_to_db with the top_db floor from each item's own maximum. out may be in.
void power_to_db(const features::DbConfig& cfg, const float* in, int64_t batch, int rows,
                 int64_t frames, Lengths lengths, int64_t n_samples,
                 const features::StftConfig& framing, float* out, cudaStream_t stream);

// librosa.feature.mfcc(S=log_mel): dct @ log_mel.
void mfcc(Context& ctx, const features::MfccConfig& cfg, const float* dct, const float* log_mel,
          int64_t batch, int n_mels, int64_t frames, float* out, cudaStream_t stream);

// librosa.feature.delta(order) along frames; weights are features' savgol_weights of that order.
void delta(const features::DeltaConfig& cfg, const double* weights, const float* in, int64_t batch,
           int rows, int64_t frames, Lengths lengths, int64_t n_samples,
           const features::StftConfig& framing, float* out, cudaStream_t stream);

// librosa.feature.chroma_stft(S=power_spec) with given banks: banks holds one device pointer
// to an [n_chroma, n_bins] bank for every item, or a single one shared by all.
void chroma_stft(Context& ctx, const features::ChromaConfig& cfg,
                 const std::vector<const float*>& banks, const float* power_spec, int64_t batch,
                 int n_bins, int64_t frames, float* out, cudaStream_t stream);

// librosa.feature.spectral_contrast(S=magnitude) [batch, n_bands + 1, frames]; the bands are
// features' contrast_bands (first bin, bin count, quantile size of each).
void spectral_contrast(const features::ContrastConfig& cfg, const std::vector<int>& first,
                       const std::vector<int>& count, const std::vector<int>& q,
                       const float* magnitude, int64_t batch, int n_bins, int64_t frames,
                       Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                       float* out, cudaStream_t stream);

// librosa.feature.zero_crossing_rate(y) and rms(y=y): [batch, 1, frames] of their own framing.
void zero_crossing_rate(const features::ZcrConfig& cfg, const float* audio, Lengths lengths,
                        int64_t batch, int64_t n_samples, float* out, cudaStream_t stream);
void rms(const features::RmsConfig& cfg, const float* audio, Lengths lengths, int64_t batch,
         int64_t n_samples, float* out, cudaStream_t stream);

// features::row_stats of every item over its valid frames of `framing`: out[b * out_stride +
// 2 r] = mean, [... + 2 r + 1] = std, for x [batch, rows, frames].
void row_stats(const float* x, int64_t batch, int rows, int64_t frames, Lengths lengths,
               int64_t n_samples, int frame, int hop, bool center, float* out, int64_t out_stride,
               cudaStream_t stream);

}  // namespace hptrain::cuda
