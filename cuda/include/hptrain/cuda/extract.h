// The whole feature set of a batch on the GPU, twin of features::extract: one stream, cached
// cuFFT plans, tables uploaded once; results on the device or copied once to host Tensor3s.
// Layout [batch, rows, frames], float32.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "hptrain/cuda/features.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/tables.h"

namespace hptrain::cuda {

// extract()'s outputs on the device; shapes as features::FeatureSet (empty when not selected).
struct DeviceFeatures {
  int64_t batch = 0, frames = 0, zcr_frames = 0, rms_frames = 0;
  DeviceBuffer<float> stft_mag, melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft,
      spectral_contrast, zcr, rms, stats;
  DeviceBuffer<double> tuning;  // [batch]: chroma tuning per item (given or estimated)
};

class FeatureExtractor {
 public:
  // The caller validates cfg (features::FeatureConfig::validate); tables are
  // features::feature_tables(cfg). fft_f64: the FFT in float64 (librosa's) or float32; framing:
  // how the STFT frames and transforms (FftFraming: the own FFT, cuFFT with callbacks or after a
  // framing kernel).
  FeatureExtractor(const features::FeatureConfig& cfg,
                   std::shared_ptr<const features::FeatureTables> tables, bool fft_f64 = true,
                   FftFraming framing = FftFraming::automatic);
  cudaStream_t stream() const { return stream_.get(); }

  // audio: device [batch, n_samples]; lengths: host [batch] or null (all n_samples). Queued on
  // stream(), never synchronising (the chroma tuning, when estimated, is estimated on the
  // device too).
  DeviceFeatures run(const float* audio, const int64_t* lengths, int64_t batch, int64_t n_samples,
                     const features::FeatureSelection& what);

  // Host in, host out: one upload, run(), one download per output, then a synchronisation.
  features::FeatureSet extract(const float* audio, int64_t batch, int64_t n_samples,
                               const features::FeatureSelection& what,
                               const int64_t* lengths = nullptr);

 private:
  const float* chroma_bank();   // FeatureTables::chroma_fixed, uploaded at first use
  const float* tuning_banks();  // DeviceTables::chroma_banks, uploaded at first use

  features::FeatureConfig cfg_;
  std::shared_ptr<const features::FeatureTables> tables_;
  bool fft_f64_;
  Stream stream_;  // before every buffer: destroyed after them
  Context ctx_;
  DeviceTables dev_;
  DeviceBuffer<float> chroma_fixed_;
};

// features::extract on the GPU with a FeatureExtractor kept per thread and tables.
features::FeatureSet extract(const features::FeatureConfig& cfg,
                             const std::shared_ptr<const features::FeatureTables>& tables,
                             const float* audio, int64_t batch, int64_t n_samples,
                             const features::FeatureSelection& what = {});

}  // namespace hptrain::cuda
