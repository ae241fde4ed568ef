// The CPU kernels' per-thread work areas, the item loop over threads, and padded signals.
#include "kernels.h"

#include <fftw3.h>

#include "hptrain/parallel.h"

namespace hptrain::features::detail {

Workspace::~Workspace() {
  fftw_free(fft_in);
  fftw_free(fft_out);
}

void Workspace::ensure_fft(int n_fft) {
  if (fft_n == n_fft) return;
  fftw_free(fft_in);
  fftw_free(fft_out);
  fft_in = fftw_alloc_real(static_cast<size_t>(kFftBlock) * n_fft);
  fft_out = fftw_alloc_complex(static_cast<size_t>(kFftBlock) * (n_fft / 2 + 1));
  if (fft_in == nullptr || fft_out == nullptr) throw std::bad_alloc();
  std::fill(fft_in, fft_in + static_cast<size_t>(kFftBlock) * n_fft, 0.0);
  fft_n = n_fft;
}

Workspace& thread_workspace() {
  thread_local Workspace ws;
  return ws;
}

void for_items(int64_t batch, int threads, const std::function<void(int64_t, Workspace&)>& fn) {
  parallel_for(batch, resolve_threads(threads), [&](int64_t i) { fn(i, thread_workspace()); });
}

// ref: numpy.pad(mode='constant' | 'edge' | 'reflect')
PaddedSignal::PaddedSignal(const float* y, int64_t n, int64_t pad, PadMode mode,
                           std::vector<float>& edges)
    : y_(y), n_(n), pad_(pad) {
  edges.assign(static_cast<size_t>(2 * pad), 0.0f);
  float* lo = edges.data();
  float* hi = lo + pad;
  if (mode != PadMode::constant) {
    for (int64_t i = 0; i < pad; ++i) {
      lo[i] = y[pad_index(i - pad, n, mode)];
      hi[i] = y[pad_index(n + i, n, mode)];
    }
  }
  left_ = lo;
  right_ = hi;
}

const float* PaddedSignal::span(int64_t start, int64_t len, float* scratch) const {
  if (start >= pad_ && start + len <= pad_ + n_) return y_ + (start - pad_);
  for (int64_t i = 0; i < len; ++i) {
    const int64_t j = start + i;
    scratch[i] = j < pad_ ? left_[j] : j < pad_ + n_ ? y_[j - pad_] : right_[j - pad_ - n_];
  }
  return scratch;
}

}  // namespace hptrain::features::detail
