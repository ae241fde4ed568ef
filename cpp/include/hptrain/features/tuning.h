// The tuning stage: librosa.estimate_tuning of a spectrogram, in fractions of a bin. Its
// per-peak arithmetic (piptrack's parabolic stencil, pitch_tuning's residual and its histogram
// over bins of 0.01) is written once for the CPU and its GPU twin; the twins (features:: and
// cuda::estimate_tuning) are held equal bit for bit by tests/cuda/tuning_cuda_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>

#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"
#include "hptrain/hd.h"

namespace hptrain::features::tuning {

// pitch_tuning(resolution=0.01): histogram edges linspace(-0.5, 0.5, kEdges).
constexpr int kEdges = 101;
constexpr int kBins = kEdges - 1;
constexpr double kStep = 1.0 / kBins;
// piptrack(threshold=0.1): a peak's bin must exceed 0.1 x its frame's largest bin.
constexpr float kThreshold = 0.1f;
constexpr double kFmin = 150.0, kFmax = 4000.0;  // estimate_tuning's piptrack range (Hz)

// Left edge of histogram bin i (i == kBins: the right end, 0.5), as numpy's linspace.
HP_HD inline double edge(int i) {
  return i == kBins ? 0.5 : add_rn(mul_rn(static_cast<double>(i), kStep), -0.5);
}

// A local maximum of piptrack at bin k: its pitch (Hz) and magnitude, from the float32 power
// of bins k - 1 (sp), k (sk) and k + 1 (sn; unused when k is the last bin).
struct Peak {
  float pitch, mag;
};
HP_HD inline Peak peak(float sp, float sk, float sn, int k, bool last, int sr, int n_fft) {
  float shift = 0, avg;
  if (!last) {
    // ref: librosa/core/pitch.py _pi_stencil (numba, float64 intermediates)
    const double a = add_rn(static_cast<double>(add_rn(sn, sp)), -2.0 * static_cast<double>(sk));
    const double b = static_cast<double>(add_rn(sn, -sp)) / 2.0;
    if (!(fabs(b) >= fabs(a))) shift = static_cast<float>(-b / a);
    avg = add_rn(sn, -sp) / 2.0f;  // np.gradient, interior
  } else {
    avg = add_rn(sk, -sp);  // np.gradient, last edge
  }
  const float dskew = mul_rn(mul_rn(0.5f, avg), shift);
  // ref: piptrack: pitch = (k + shift) * sr / n_fft (int64 + float32 -> float64), stored float32
  const double f =
      mul_rn(add_rn(static_cast<double>(k), static_cast<double>(shift)), static_cast<double>(sr)) /
      static_cast<double>(n_fft);
  return Peak{static_cast<float>(f), add_rn(sk, dskew)};
}

// pitch_tuning's histogram bin of a pitch (Hz, > 0), or -1 outside [-0.5, 0.5]:
// residual = mod(bins_per_octave * log2(f / 27.5), 1) in float32, folded to [-0.5, 0.5). The
// log2 is taken in float64 and rounded, so that the CPU's libm and CUDA's (each within an ulp
// of float64) give the same float32 residual.
HP_HD inline int bin_of(float pitch, int bins_per_octave) {
  const float octs = static_cast<float>(log2(static_cast<double>(pitch / 27.5f)));
  float r = fmodf(mul_rn(static_cast<float>(bins_per_octave), octs), 1.0f);
  if (r != 0 && r < 0) r = add_rn(r, 1.0f);
  if (r >= 0.5f) r = add_rn(r, -1.0f);
  if (r < edge(0) || r > edge(kBins)) return -1;
  // bin i holds edge(i) <= r < edge(i + 1); the last also r == 0.5 (np.histogram)
  int b = static_cast<int>(floor((static_cast<double>(r) + 0.5) / kStep));
  b = b < 0 ? 0 : b > kBins - 1 ? kBins - 1 : b;
  while (b > 0 && r < edge(b)) --b;
  while (b < kBins - 1 && r >= edge(b + 1)) ++b;
  return b;
}

// ref: pitch_tuning: the histogram of the residuals of the peaks at or above the magnitude
// threshold, and its answer, the left edge of the first fullest bin (0.0 without a peak).
// Host side: the GPU builds its histogram in a kernel (cuda/src/tuning.cu).
struct Histogram {
  int64_t counts[kBins] = {};
  bool any = false;
  void add(float pitch, float mag, float threshold, int bins_per_octave) {
    if (!(mag >= threshold) || !(pitch > 0)) return;
    any = true;
    const int b = bin_of(pitch, bins_per_octave);
    if (b >= 0) ++counts[b];
  }
  double tuning() const {
    if (!any) return 0.0;
    int best = 0;
    for (int b = 1; b < kBins; ++b) best = counts[b] > counts[best] ? b : best;
    return edge(best);
  }
};

}  // namespace hptrain::features::tuning

namespace hptrain::features {

// librosa.estimate_tuning(S=spec[item], sr, bins_per_octave, resolution=0.01): piptrack
// (fmin 150, fmax 4000, threshold 0.1) then pitch_tuning. In fractions of a bin.
double estimate_tuning(const float* spec, int64_t bins, int64_t frames, int sr,
                       int bins_per_octave = 12);

}  // namespace hptrain::features

namespace hptrain::cuda {

// features::estimate_tuning of every item of a device power spectrogram [batch, n_bins, T]
// over its own frames (power_spec.valid, whose framing's frame is n_fft), the same value bit for
// bit: tuning [batch] (float64, device) and bank [batch] (device; the DeviceTables::chroma_banks
// index of that tuning). pip_lo, pip_hi: piptrack's bin range (features::FeatureTables). Queued
// on `stream`, no sync.
void estimate_tuning(const features::FrameBatch& power_spec, int sr, int pip_lo, int pip_hi,
                     int bins_per_octave, double* tuning, int* bank, CudaStream stream);

}  // namespace hptrain::cuda
