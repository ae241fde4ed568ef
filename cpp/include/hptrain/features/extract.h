// The feature stage's one dispatch point: every feature of a batch of equal-length chunks from one
// shared STFT per item, as librosa 0.11 computes them. [batch, rows, frames], float32, row-major.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// Which outputs to compute; what a selected output needs is computed anyway (mfcc needs log_mel).
struct FeatureSelection {
  bool stft_mag = true, melspectrogram = true, log_mel = true, mfcc = true, deltas = true,
       chroma = true, contrast = true, zcr = true, rms = true, stats = true;
};

// Outputs not selected stay empty (batch 0). Shapes, with T = n_frames(cfg, n_samples):
// stft_mag [B, 1 + n_fft/2, T] (|STFT|, power 1); melspectrogram, log_mel [B, n_mels, T];
// mfcc, mfcc_delta, mfcc_delta2 [B, n_mfcc, T]; chroma_stft [B, n_chroma, T];
// spectral_contrast [B, n_bands + 1, T]; zcr, rms [B, 1, T'] (their own framing);
// stats [B, 1, stats_columns(cfg).size()].
struct FeatureSet {
  Tensor3 stft_mag, melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft,
      spectral_contrast, zcr, rms;
  Tensor3 stats;               /* [batch, 1, D] */
  std::vector<double> tuning;  // chroma tuning used per item (estimated when cfg.chroma.tuning
                               // is None), in fractions of a chroma bin
};

// The dispatch point: GPU when gpu_available() and kernels exist, else CPU threads over the
// batch (cfg.threads, 0 = hardware_concurrency), or over frame ranges of each item when the
// items are fewer than the threads (cpu_frame_ranges). audio: [batch, n_samples], row-major.
// Throws InputError when deltas are selected and T < delta.width in mode "interp" (as librosa),
// or when a framing without centring has fewer samples than its frame.
FeatureSet extract(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                   const FeatureSelection& what = {});
// The same into `out`, whose tensors are reused when their sizes do not change: a loop over
// batches of one shape allocates nothing after its first call.
void extract(const FeatureConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
             const FeatureSelection& what, FeatureSet& out);

// The frame ranges the CPU path splits each item into, the same values bit for bit as one range:
// up to cfg.threads when the batch has fewer items than threads, every range at least 256
// frames, and the selection only STFT, mel, log-mel and MFCC outputs; else 1 (threads over the
// items).
int64_t cpu_frame_ranges(const FeatureConfig& cfg, const FeatureSelection& what, int64_t batch,
                         int64_t n_samples);

// Names of the pooled-statistics columns, in order: "<feature>_<row>_<mean|std>" with rows
// numbered from 0, two digits ("mfcc_03_mean", "mfcc_delta_00_std", "chroma_11_mean",
// "contrast_06_std", "zcr_00_mean", "rms_00_std").
std::vector<std::string> stats_columns(const FeatureConfig& cfg);

// Frames of the STFT-based features for n_samples samples: 1 + n // hop when centred.
int64_t n_frames(const FeatureConfig& cfg, int64_t n_samples);

}  // namespace hptrain::features
