// The spectral stages on a spectrogram, [batch, rows, frames], float32: mel
// (librosa.feature.melspectrogram), dB (librosa.power_to_db), MFCC (librosa.feature.mfcc),
// deltas (librosa.feature.delta) and chroma (librosa.feature.chroma_stft). Twins in `features`
// (CPU) and `cuda` (GPU) with the same names and configs, held together by
// tests/cuda/spectral_cuda_test.cpp (kBankAtol, kDbAtol, kMfccAtol, kDeltaAtol and their rtol).
#pragma once

#include <cstdint>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// librosa.feature.delta(data, width, order, axis=-1, mode), the argument both twins take.
struct DeltaArgs {
  DeltaConfig cfg;  // width, mode
  int order = 1;    // 1 or 2: the Savitzky-Golay derivative taken
};

// librosa.feature.melspectrogram(S=spec): mel_filter_bank @ spec, where spec = |STFT|**power.
// n_fft is 2 * (spec.rows - 1), as librosa infers it.
void mel_spectrogram(const MelConfig& cfg, int sr, const Tensor3& spec, Tensor3& out);

// librosa.power_to_db: 10 log10(max(amin, x)) - 10 log10(max(amin, ref)), floored at each item's
// own maximum minus top_db. `out` may be `in`.
void power_to_db(const DbConfig& cfg, const Tensor3& in, Tensor3& out);

// librosa.feature.mfcc(S=log_mel): DCT-II along the rows, first n_mfcc, optional lifter.
void mfcc(const MfccConfig& cfg, const Tensor3& log_mel, Tensor3& out);

// librosa.feature.delta: Savitzky-Golay derivative of a.order along frames. Throws InputError
// when mode is "interp" and frames < width.
void delta(const DeltaArgs& a, const Tensor3& in, Tensor3& out);

// librosa.feature.chroma_stft(S=power_spec): normalize(chroma_filter_bank @ S). With
// cfg.tuning None, each item's tuning is estimate_tuning(power_spec of that item); the tunings
// used are returned in `tuning` when not null.
void chroma_stft(const ChromaConfig& cfg, int sr, const Tensor3& power_spec, Tensor3& out,
                 std::vector<double>* tuning = nullptr);

}  // namespace hptrain::features

namespace hptrain::cuda {

// On the device: `in` arrays are FrameBatch views of device memory (lengths too); frames at or
// past an item's own count (in.valid) hold unspecified finite values and are left out of its
// power_to_db maximum, deltas and statistics. Queued on `stream`, never synchronising.

// out [batch, rows, frames] = bank [rows, cols] @ in [batch, cols, frames] (cuBLAS, float32):
// the mel and chroma filter banks and the DCT of MFCC.
void bank_product(Context& ctx, const float* bank, int rows, int cols, const float* in,
                  int64_t batch, int64_t frames, float* out, CudaStream stream);

// librosa.feature.melspectrogram(S=spec): mel_fb @ spec; spec [batch, 1 + n_fft/2, frames].
void mel_spectrogram(Context& ctx, const features::MelConfig& cfg, const float* mel_fb,
                     const features::FrameBatch& spec, float* out, CudaStream stream);

// librosa.power_to_db with the top_db floor from each item's own maximum. out may be in.data.
// maxima: those stft_mel found while writing `in`, or null (a pass of its own for them).
void power_to_db(const features::DbConfig& cfg, const features::FrameBatch& in, float* out,
                 CudaStream stream, const ItemMaxima* maxima = nullptr);

// librosa.feature.mfcc(S=log_mel): dct @ log_mel.
void mfcc(Context& ctx, const features::MfccConfig& cfg, const float* dct,
          const features::FrameBatch& log_mel, float* out, CudaStream stream);

// librosa.feature.mfcc(S=power_to_db(mel)): power_to_db then mfcc, each as its twin above, the
// DCT taken in power_to_db's second pass: every tile's floored log-mel values go through shared
// memory into the DCT, not through global memory. log_mel [batch, n_mels, frames] is written
// too when not null. maxima: those stft_mel found while writing this mel, or null (a pass of its
// own). n_mels over 372 (a tile too large for shared memory): power_to_db, then mfcc.
void mfcc_from_mel(Context& ctx, const features::DbConfig& db, const features::MfccConfig& cfg,
                   const float* dct, const features::FrameBatch& mel, float* log_mel, float* out,
                   CudaStream stream, const ItemMaxima* maxima = nullptr);

// librosa.feature.delta of a.order along frames, with the Savitzky-Golay weights of that order
// (tables.savgol[a.order - 1]). Frames at or past an item's valid count are written as 0.
void delta(const features::DeltaArgs& a, const DeviceTables& tables, const features::FrameBatch& in,
           float* out, CudaStream stream);

// librosa.feature.chroma_stft(S=power_spec) with given banks: banks [n_banks, n_chroma, n_bins]
// on the device; item b uses bank bank_of_item[b] (device, [batch]), or bank 0 for every item
// when bank_of_item is null.
void chroma_stft(Context& ctx, const features::ChromaConfig& cfg, const float* banks,
                 const int* bank_of_item, const features::FrameBatch& power_spec, float* out,
                 CudaStream stream);

}  // namespace hptrain::cuda
