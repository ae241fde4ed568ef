// Launchers of the feature kernels (private to hp_cuda): plain arguments, device pointers, one
// stream; each checks cudaGetLastError after its launch. Layout [batch, rows, frames], float32.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "hptrain/cuda/framing.h"

namespace hptrain::cuda::detail {

// A batch of clips [batch, n_samples], item b holding its first length(b) samples.
struct Signal {
  const float* audio;
  const int64_t* lengths;  // device, [batch]; null: every item is n_samples long
  int64_t batch;
  int64_t n_samples;
};

// Windowed frames of the padded clips, one row of n_fft values per (item, frame), float32 or
// float64 (`f64`): out[(b T + t) n_fft + i] = window[i] x_b(t hop + i - pad) for i in [lo, hi).
void frames(const Signal& s, Framing f, PadMode mode, const double* window, int lo, int hi,
            int64_t T, bool f64, void* out, cudaStream_t stream);

// From the FFT's frame-major complex output [batch * T, n_bins] to bin-major [batch, n_bins, T]:
// |X| (mag), |X|^2 (power) and |X|^exponent (spec), each written when not null.
void spectrum(const void* fft, bool f64, int64_t batch, int64_t T, int n_bins, float* mag,
              float* power, float* spec, float exponent, cudaStream_t stream);

// librosa.power_to_db per item: out = 10 log10(max(amin, in)) - sub, floored at the item's own
// maximum over its valid frames minus top_db (when has_top_db). out may be in.
void power_to_db(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
                 float amin, float sub, bool has_top_db, double top_db, cudaStream_t stream);

// Savitzky-Golay derivative along frames; weights [width, width] (float64, device), mode as in
// DeltaMode. Frames at or past an item's valid count are written as 0.
void delta(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
           const double* weights, int width, DeltaMode mode, cudaStream_t stream);

// librosa.util.normalize(S, norm=p, axis=0) of every column, in place (p may be infinity).
void normalize_columns(float* x, int64_t batch, int rows, int64_t T, double p, cudaStream_t stream);

// Spectral contrast's valley and peak (mean of the q smallest and largest bins of each band),
// [batch, bands.n, T] each.
void contrast_select(const float* mag, int64_t batch, int n_bins, int64_t T, const Bands& bands,
                     float* valley, float* peak, cudaStream_t stream);

// out = a - b elementwise over n values.
void subtract(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);

// librosa zero_crossing_rate (edge padding) and rms, [batch, 1, T] each.
void zcr(const Signal& s, Framing f, float threshold, bool zero_pos, int64_t T, float* out,
         cudaStream_t stream);
void rms(const Signal& s, Framing f, PadMode mode, int64_t T, float* out, cudaStream_t stream);

// Mean and std (ddof 0) over each item's valid frames of every row of x [batch, rows, T]:
// out[b * out_stride + 2 r] = mean, [... + 2 r + 1] = std.
void row_stats(const float* x, int64_t batch, int rows, int64_t T, ValidFrames v, float* out,
               int64_t out_stride, cudaStream_t stream);

}  // namespace hptrain::cuda::detail
