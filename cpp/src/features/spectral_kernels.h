// Per-item CPU kernels of the spectral stage (private to hp_features; spectral.cpp): filter-bank
// products, power_to_db, the DCT, Savitzky-Golay deltas, column normalisation. Bin-major
// [rows, frames], float32.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hptrain/features/framing.h"
#include "hptrain/features/spectral.h"
#include "kernels.h"

namespace hptrain::features::detail {

// A filter bank [rows, cols] stored by column without its zeros (a mel filter spans a few
// bins), for products with bin-major spectra.
struct SparseBank {
  SparseBank(const std::vector<float>& dense, int rows, int cols);
  int rows, cols;
  std::vector<int> start;  // [cols + 1]: column k's entries are [start[k], start[k + 1])
  std::vector<int> row;
  std::vector<float> weight;
};
// out[r, t] = sum_k bank[r, k] spec[k, t] for frames t_begin <= t < t_end of [rows or cols,
// frames] arrays, summed in k order, in blocks of frames that keep the output rows in L1.
void bank_product_frames(const SparseBank& bank, const float* spec, int64_t frames, int64_t t_begin,
                         int64_t t_end, float* out);
inline void bank_product(const SparseBank& bank, const float* spec, int64_t frames, float* out) {
  bank_product_frames(bank, spec, frames, 0, frames, out);
}
// out[r, t] = sum_k w[r, k] s[k, t] for a dense w [rows, cols] (chroma bank, DCT) and frames
// t_begin <= t < t_end, summed in k order, in register blocks of 4 rows x 8 frames (t_begin a
// multiple of 8 keeps a range's values those of the whole product, bit for bit).
void dense_product_frames(const float* w, int rows, int cols, const float* s, int64_t frames,
                          int64_t t_begin, int64_t t_end, float* out);
inline void dense_product(const float* w, int rows, int cols, const float* s, int64_t frames,
                          float* out) {
  dense_product_frames(w, rows, cols, s, frames, 0, frames, out);
}

// librosa.power_to_db of one item of n values (in and out must not overlap): the three steps
// below.
void power_to_db_item(const DbConfig& cfg, const float* in, int64_t n, float* out);
// power_to_db before its top_db floor: 10 log10(max(amin, in)) - 10 log10(max(amin, ref)).
void power_to_db_unfloored(const DbConfig& cfg, const float* in, int64_t n, float* out);
// The largest of n values (-inf for none).
float max_value(const float* x, int64_t n);
// power_to_db's floor below the item's largest dB value `top`.
inline float db_floor(float top, double top_db) {
  return static_cast<float>(static_cast<double>(top) - top_db);
}
// x = max(x, floor), in place.
void floor_at(float* x, int64_t n, float floor);

// scipy.fftpack.dct(type 2, norm) rows 0..n_mfcc-1, lifter folded in: [n_mfcc, n_mels].
std::vector<float> dct_matrix(const MfccConfig& cfg, int n_mels);

// scipy.signal.savgol_coeffs(width, polyorder, deriv, pos, use='dot') for every pos:
// weights[pos * width + j].
std::vector<double> savgol_weights(int width, int polyorder, int deriv);
// Savitzky-Golay derivative along frames of every row (frames >= width when mode is interp).
void delta_item(const std::vector<double>& weights, int width, DeltaMode mode, const float* in,
                int rows, int64_t frames, Workspace& ws, float* out);

// librosa.util.normalize(S, norm, axis=0) of float32 columns, in place; None leaves S.
void normalize_columns(const std::optional<double>& norm, float* s, int rows, int64_t frames);

}  // namespace hptrain::features::detail
