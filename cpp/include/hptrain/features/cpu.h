// CPU implementation of each feature on a batch, matching librosa 0.11 (see each function).
// Input audio [batch, n_samples]; spectra and features [batch, rows, frames]; float32.
#pragma once

#include <cstdint>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// |librosa.stft(y)|**power: [batch, 1 + n_fft/2, n_frames].
void stft(const StftConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out,
          double power = 1.0);

// librosa.feature.melspectrogram(S=spec): mel_filter_bank @ spec, where spec = |STFT|**power.
// n_fft is 2 * (spec.rows - 1), as librosa infers it.
void mel_spectrogram(const MelConfig& cfg, int sr, const Tensor3& spec, Tensor3& out);

// librosa.power_to_db: 10 log10(max(amin, x)) - 10 log10(max(amin, ref)), floored at each item's
// own maximum minus top_db. `out` may be `in`.
void power_to_db(const DbConfig& cfg, const Tensor3& in, Tensor3& out);

// librosa.feature.mfcc(S=log_mel): DCT-II along the rows, first n_mfcc, optional lifter.
void mfcc(const MfccConfig& cfg, const Tensor3& log_mel, Tensor3& out);

// librosa.feature.delta(data, width, order, axis=-1, mode): Savitzky-Golay derivative along
// frames. Throws InputError when mode is "interp" and frames < width.
void delta(const DeltaConfig& cfg, int order, const Tensor3& in, Tensor3& out);

// librosa.feature.chroma_stft(S=power_spec): normalize(chroma_filter_bank @ S). With
// cfg.tuning None, each item's tuning is estimate_tuning(power_spec of that item); the tunings
// used are returned in `tuning` when not null.
void chroma_stft(const ChromaConfig& cfg, int sr, const Tensor3& power_spec, Tensor3& out,
                 std::vector<double>* tuning = nullptr);

// librosa.estimate_tuning(S=spec[item], sr, bins_per_octave, resolution=0.01): piptrack
// (fmin 150, fmax 4000, threshold 0.1) then pitch_tuning. In fractions of a bin.
double estimate_tuning(const float* spec, int64_t bins, int64_t frames, int sr,
                       int bins_per_octave = 12);

// librosa.feature.spectral_contrast(S=magnitude): [batch, n_bands + 1, frames].
void spectral_contrast(const ContrastConfig& cfg, int sr, const Tensor3& magnitude, Tensor3& out);

// librosa.feature.zero_crossing_rate(y): [batch, 1, frames].
void zero_crossing_rate(const ZcrConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                        Tensor3& out);

// librosa.feature.rms(y=y): [batch, 1, frames].
void rms(const RmsConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out);

// Mean and population standard deviation (numpy's std, ddof=0) of every row of one item
// x [rows, frames], written as out[2 r] = mean, out[2 r + 1] = std.
void row_stats(const float* x, int64_t rows, int64_t frames, float* out);

}  // namespace hptrain::features
