// The STFT on the CPU (twin of cuda/src/stft.cu): librosa.stft's frames, float64 FFTW plans
// shared per n_fft, |X| and |X|^2 bin-major [bins, frames].
#include "kernels.h"
#include "stft_kernels.h"

#include <cmath>
#include <map>
#include <mutex>

#include "hptrain/error.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/stft.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace hptrain::features::detail {

namespace {

// out[i] = sqrt(x[i]): vectorised at the caller's clone's width (-fno-math-errno).
inline void sqrt_n(const float* x, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = std::sqrt(x[i]);
}

// dst[k * dst_stride + j] = src[j * src_stride + k] for j < rows, k < cols: 4 x 4 tiles.
inline void transpose(const float* src, int src_stride, int rows, int cols, float* dst,
                      int64_t dst_stride) {
  int j = 0;
#if defined(__SSE2__)
  for (; j + 4 <= rows; j += 4) {
    int k = 0;
    for (; k + 4 <= cols; k += 4) {
      __m128 r0 = _mm_loadu_ps(src + (j + 0) * src_stride + k);
      __m128 r1 = _mm_loadu_ps(src + (j + 1) * src_stride + k);
      __m128 r2 = _mm_loadu_ps(src + (j + 2) * src_stride + k);
      __m128 r3 = _mm_loadu_ps(src + (j + 3) * src_stride + k);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + (k + 0) * dst_stride + j, r0);
      _mm_storeu_ps(dst + (k + 1) * dst_stride + j, r1);
      _mm_storeu_ps(dst + (k + 2) * dst_stride + j, r2);
      _mm_storeu_ps(dst + (k + 3) * dst_stride + j, r3);
    }
    for (; k < cols; ++k) {
      for (int jj = j; jj < j + 4; ++jj) dst[k * dst_stride + jj] = src[jj * src_stride + k];
    }
  }
#endif
  for (; j < rows; ++j) {
    for (int k = 0; k < cols; ++k) dst[k * dst_stride + j] = src[j * src_stride + k];
  }
}

// FFTW's planner is not thread-safe: every plan is made under this mutex, once per n_fft, and
// kept for the process (destroyed at its exit).
fftw_plan shared_fft_plan(int n_fft) {
  static std::mutex mutex;
  static struct Plans : std::map<int, fftw_plan> {
    ~Plans() {
      for (auto& [n, plan] : *this) fftw_destroy_plan(plan);
    }
  } plans;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(n_fft);
  if (it != plans.end()) return it->second;
  const int n_bins = n_fft / 2 + 1;
  double* in = fftw_alloc_real(static_cast<size_t>(kFftBlock) * n_fft);
  fftw_complex* out = fftw_alloc_complex(static_cast<size_t>(kFftBlock) * n_bins);
  int n[] = {n_fft};
  fftw_plan plan = fftw_plan_many_dft_r2c(1, n, kFftBlock, in, nullptr, 1, n_fft, out, nullptr, 1,
                                          n_bins, FFTW_MEASURE | FFTW_PRESERVE_INPUT);
  fftw_free(in);
  fftw_free(out);
  if (plan == nullptr)
    throw Error("FFTW could not plan a real FFT of size " + std::to_string(n_fft));
  plans.emplace(n_fft, plan);
  return plan;
}

}  // namespace

StftPlan::StftPlan(const StftConfig& c)
    : cfg(c),
      n_fft(c.n_fft),
      n_bins(c.n_fft / 2 + 1),
      hop(c.hop()),
      pad_mode(parse_pad_mode(c.pad_mode)),
      window(stft_window(c)),
      fft(shared_fft_plan(c.n_fft)) {}

// ref: librosa/core/spectrum.py stft: frames of the padded signal times the float64 window,
// rfft in float64, cast to complex64; np.abs(D) and np.abs(D)**2 in float32. Here per block of
// kFftBlock frames, frame-major out of FFTW (a bin-major plan is slower), then transposed.
HP_CPU_CLONES
void stft_frames(const StftPlan& p, const float* y, int64_t n, int64_t frames, int64_t t_begin,
                 int64_t t_end, Workspace& ws, float* power, float* mag) {
  ws.ensure_fft(p.n_fft);
  const PaddedSignal x(y, n, p.cfg.center ? p.n_fft / 2 : 0, p.pad_mode, ws.edges);
  float* scratch = Workspace::get(ws.scratch, static_cast<size_t>(p.n_fft));
  const int lo = (p.n_fft - p.cfg.win()) / 2;
  const int hi = lo + p.cfg.win();
  const int nbins = p.n_bins;
  const double* w = p.window.data();
  // power of a block, frame-major [kFftBlock, nbins]; bin-major in power's rows, or in mag's
  // until their square roots replace it
  float* pw = Workspace::get(ws.fft_power, static_cast<size_t>(kFftBlock) * nbins);
  float* bins = power != nullptr ? power : mag;
  if (bins == nullptr) return;
  for (int64_t t0 = t_begin; t0 < t_end; t0 += kFftBlock) {
    const int nb = static_cast<int>(std::min<int64_t>(kFftBlock, t_end - t0));
    for (int j = 0; j < nb; ++j) {
      const float* src = x.span((t0 + j) * p.hop + lo, hi - lo, scratch) - lo;
      double* dst = ws.fft_in + static_cast<size_t>(j) * p.n_fft;
      // The buffer is per thread and shared by every config with this n_fft: zero the padding
      // around the window each time, since a wider window may have written there before.
      std::fill(dst, dst + lo, 0.0);
      for (int i = lo; i < hi; ++i) dst[i] = w[i] * src[i];
      std::fill(dst + hi, dst + p.n_fft, 0.0);
    }
    fftw_execute_dft_r2c(p.fft, ws.fft_in, ws.fft_out);
    for (int j = 0; j < nb; ++j) {
      const double* c = ws.fft_out[static_cast<size_t>(j) * nbins];
      float* pj = pw + static_cast<size_t>(j) * nbins;
      for (int k = 0; k < nbins; ++k) {  // |D|**2 of the complex64 D
        const float re = static_cast<float>(c[2 * k]), im = static_cast<float>(c[2 * k + 1]);
        pj[k] = re * re + im * im;
      }
    }
    transpose(pw, nbins, nb, nbins, bins + t0, frames);
    if (mag == nullptr) continue;
    // |D| from the block's rows just written (in cache): one transpose for both
    for (int64_t k = 0; k < nbins; ++k) sqrt_n(bins + k * frames + t0, mag + k * frames + t0, nb);
  }
}

}  // namespace hptrain::features::detail

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

void stft(const StftConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out,
          double power) {
  cfg.validate();
  const detail::StftPlan p(cfg);
  const int64_t frames = frame_count(Framing{cfg.n_fft, p.hop, cfg.center}, n_samples, "stft");
  out = Tensor3(batch, p.n_bins, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    float* o = out.item(i);
    const float* y = audio + i * n_samples;
    if (power == 2.0) {
      detail::stft_item(p, y, n_samples, frames, ws, o, nullptr);
      return;
    }
    detail::stft_item(p, y, n_samples, frames, ws, nullptr, o);
    if (power != 1.0) {
      for (int64_t j = 0; j < out.rows * frames; ++j)
        o[j] = static_cast<float>(std::pow(o[j], power));
    }
  });
}

}  // namespace hptrain::features
