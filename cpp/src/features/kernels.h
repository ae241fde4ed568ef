// What every CPU feature stage shares (private to hp_features): each thread's work area, the
// items spread over threads, numpy.pad without a copy, and the target_clones of hot loops. Each
// stage's own kernels: <stage>_kernels.h (stft, spectral, contrast, tuning, signal, stats).
#pragma once

#include <fftw3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "hptrain/features/framing.h"
#include "hptrain/tensor.h"

// Hot loops are compiled twice, for x86-64-v3 (AVX2, FMA) and the baseline, picked at load
// time; the two may differ in the last bit (FMA), far inside every tolerance.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HP_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HP_CPU_CLONES
#endif

namespace hptrain::features::detail {

// n_fft of a spectrogram [.., 1 + n_fft/2, ..]: 2 (rows - 1), as librosa infers it.
inline int n_fft_of(const Tensor3& spec) {
  return static_cast<int>(2 * (spec.rows - 1));  // ref: librosa _spectrogram with S given
}

// Frames transformed per FFTW call (one plan_many plan), then transposed to bin-major. The FFT is
// float64 (fftw, not fftwf) like librosa's (numpy.fft on float64 windowed frames): spectral
// contrast's valleys are the smallest bins of a band, often at 1e-6 of the frame's peak, where a
// float32 FFT's rounding noise moves them by up to 5 dB.
constexpr int kFftBlock = 16;

// A work area of one thread, grown when needed and reused across calls.
struct Workspace {
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();
  // FFTW buffers for n_fft, from fftw_malloc (the alignment the shared plans assume).
  void ensure_fft(int n_fft);
  // `v` resized to at least n values; returns its data.
  template <class T>
  static T* get(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }

  int fft_n = 0;
  double* fft_in = nullptr;         // [kFftBlock, n_fft]
  fftw_complex* fft_out = nullptr;  // [kFftBlock, n_fft / 2 + 1]
  std::vector<float> edges, scratch, fft_power, power, mag, spec, mel, log_mel, mfcc, d1, d2,
      chroma, contrast, zcr, rms, valley, peak, gather, acc32, pitches, mags;
  std::vector<double> prefix, acc;
  std::vector<int32_t> crossings;
  std::vector<uint8_t> signs;
};
Workspace& thread_workspace();

// Runs fn(item, workspace) for items [0, batch) on `threads` threads (0: all cores); the first
// exception of any item is rethrown.
void for_items(int64_t batch, int threads, const std::function<void(int64_t, Workspace&)>& fn);

// numpy.pad(y, pad, mode) without copying y: only the two pads are stored (in `edges`, which
// must outlive this view), filled through pad_index.
class PaddedSignal {
 public:
  PaddedSignal(const float* y, int64_t n, int64_t pad, PadMode mode, std::vector<float>& edges);
  int64_t size() const { return n_ + 2 * pad_; }
  // Padded samples [start, start + len): a pointer into y, or, across a pad, into `scratch`
  // (len values) filled here.
  const float* span(int64_t start, int64_t len, float* scratch) const;

 private:
  const float* y_;
  int64_t n_, pad_;
  const float* left_;   // pad values before y
  const float* right_;  // pad values after y
};

}  // namespace hptrain::features::detail
