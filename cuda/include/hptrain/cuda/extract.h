// The whole feature set of a batch on the GPU, twin of features::extract: one stream, cached
// cuFFT plans, tables uploaded once; results on the device or copied once to host Tensor3s.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "hptrain/cuda/features.h"
#include "hptrain/features/extract.h"

namespace hptrain::cuda {

// Tables built on the host by the CPU code, which hp_cuda cannot link (see host_tables()).
struct HostTables {
  std::vector<double> window;                       // [n_fft]
  std::vector<float> mel_fb;                        // [n_mels, 1 + n_fft/2]
  std::vector<float> dct;                           // [n_mfcc, n_mels]
  std::vector<double> savgol[2];                    // [width, width], delta orders 1 and 2
  std::vector<int> band_first, band_count, band_q;  // spectral-contrast bands
  std::function<std::vector<float>(double tuning)> chroma_fb;  // [n_chroma, 1 + n_fft/2]
  // features::estimate_tuning(power [bins, frames], bins, frames, sr, bins_per_octave)
  std::function<double(const float*, int64_t, int64_t, int, int)> estimate_tuning;
  std::shared_ptr<const void> owner;  // the CPU plan these came from: identity and lifetime
};

// HostTables of a features::detail::Plan (hp_features' private CPU plan, passed in by the code
// that can see it: features::extract and the tests), e.g.
// host_tables(detail::plan_for(cfg), features::estimate_tuning).
template <class CpuPlan, class Estimate>
HostTables host_tables(std::shared_ptr<const CpuPlan> plan, Estimate estimate_tuning) {
  const CpuPlan& p = *plan;
  HostTables t;
  t.window = p.stft.window;
  const auto& fb = p.mel_fb;  // stored by column without its zeros
  t.mel_fb.assign(static_cast<size_t>(fb.rows) * fb.cols, 0.0f);
  for (int k = 0; k < fb.cols; ++k) {
    for (int e = fb.start[k]; e < fb.start[k + 1]; ++e) {
      t.mel_fb[static_cast<size_t>(fb.row[e]) * fb.cols + k] = fb.weight[e];
    }
  }
  t.dct = p.dct;
  t.savgol[0] = p.savgol[0];
  t.savgol[1] = p.savgol[1];
  t.band_first = p.bands.first;
  t.band_count = p.bands.count;
  t.band_q = p.bands.q;
  t.chroma_fb = [plan](double tuning) { return *plan->chroma_fb(tuning); };
  t.estimate_tuning = estimate_tuning;
  t.owner = plan;
  return t;
}

// extract()'s outputs on the device; shapes as features::FeatureSet (empty when not selected).
struct DeviceFeatures {
  int64_t batch = 0, frames = 0, zcr_frames = 0, rms_frames = 0;
  DeviceBuffer<float> stft_mag, melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft,
      spectral_contrast, zcr, rms, stats;
  std::vector<double> tuning;  // chroma tuning per item
};

class FeatureExtractor {
 public:
  // The caller validates cfg (features::FeatureConfig::validate).
  FeatureExtractor(const features::FeatureConfig& cfg, HostTables tables, bool fft_f64 = true);
  cudaStream_t stream() const { return stream_.get(); }

  // audio: device [batch, n_samples]; lengths: host [batch] or null (all n_samples). Queued on
  // stream(); synchronises only to estimate the chroma tuning (cfg.chroma.tuning None), which
  // runs on the host CPU from the GPU's power spectra.
  DeviceFeatures run(const float* audio, const int64_t* lengths, int64_t batch, int64_t n_samples,
                     const features::FeatureSelection& what);

  // Host in, host out: one upload, run(), one download per output, then a synchronisation.
  features::FeatureSet extract(const float* audio, int64_t batch, int64_t n_samples,
                               const features::FeatureSelection& what,
                               const int64_t* lengths = nullptr);

 private:
  const float* chroma_bank(double tuning);

  features::FeatureConfig cfg_;
  HostTables tables_;
  bool fft_f64_;
  Stream stream_;  // before every buffer: destroyed after them
  Context ctx_;
  DeviceTables dev_;
  std::map<double, DeviceBuffer<float>> chroma_banks_;
};

// features::extract on the GPU with a FeatureExtractor kept per thread and plan (tables.owner).
features::FeatureSet extract(const features::FeatureConfig& cfg, const HostTables& tables,
                             const float* audio, int64_t batch, int64_t n_samples,
                             const features::FeatureSelection& what = {});

}  // namespace hptrain::cuda
