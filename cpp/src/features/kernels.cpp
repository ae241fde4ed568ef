// Per-item CPU kernels; each reproduces the librosa 0.11 / numpy / scipy code named in its
// `ref:` comment, including float32-versus-float64 arithmetic where it matters.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/features/tuning.h"
#include "hptrain/parallel.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace hptrain::features::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;

double fft_frequency(int k, int sr, int n_fft) {
  return k * (1.0 / (n_fft * (1.0 / sr)));  // ref: numpy.fft.rfftfreq
}

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

// log10(x) for a positive normal float, within 2e-7 relative of std::log10 (1e-6 dB in a dB
// value): Cephes logf (x = m 2^e, m in [sqrt(1/2), sqrt(2)), a degree-9 polynomial in m - 1),
// branch-free so that loops over it vectorise (libm's log10f is a call per value).
inline float log10_positive(float x) {
  const uint32_t bits = __builtin_bit_cast(uint32_t, x);
  int e = static_cast<int>(bits >> 23) - 126;
  const float m = __builtin_bit_cast(float, (bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const int small = m < 0.70710678f;
  e -= small;
  const float f = m - 1.0f + (small ? m : 0.0f);
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  const float ef = static_cast<float>(e);
  y += -2.12194440e-4f * ef;
  y += -0.5f * z;
  return (f + y + 0.693359375f * ef) * 0.43429448190325182f;
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
void stft_item(const StftPlan& p, const float* y, int64_t n, int64_t frames, Workspace& ws,
               float* power, float* mag) {
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
  for (int64_t t0 = 0; t0 < frames; t0 += kFftBlock) {
    const int nb = static_cast<int>(std::min<int64_t>(kFftBlock, frames - t0));
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

SparseBank::SparseBank(const std::vector<float>& dense, int r, int c) : rows(r), cols(c) {
  start.push_back(0);
  for (int k = 0; k < cols; ++k) {
    for (int i = 0; i < rows; ++i) {
      const float v = dense[static_cast<size_t>(i) * cols + k];
      if (v == 0.0f) continue;
      row.push_back(i);
      weight.push_back(v);
    }
    start.push_back(static_cast<int>(row.size()));
  }
}

HP_CPU_CLONES
void bank_product(const SparseBank& bank, const float* spec, int64_t frames, float* out) {
  constexpr int64_t kBlock = 64;  // rows x 64 frames of output stay in L1
  std::fill(out, out + bank.rows * frames, 0.0f);
  for (int64_t t0 = 0; t0 < frames; t0 += kBlock) {
    const int64_t tl = std::min(kBlock, frames - t0);
    for (int k = 0; k < bank.cols; ++k) {
      const float* s = spec + k * frames + t0;
      for (int e = bank.start[k]; e < bank.start[k + 1]; ++e) {
        float* o = out + bank.row[e] * frames + t0;
        const float w = bank.weight[e];
        for (int64_t t = 0; t < tl; ++t) o[t] += w * s[t];
      }
    }
  }
}

namespace {

using v8f = float __attribute__((vector_size(32)));  // GCC vector extension: 8 floats

// R rows x 8 frames of out from R rows of w, the sums held in R vector registers.
template <int R>
inline void dense_block(const float* w, int cols, const float* s, int64_t frames, float* out) {
  v8f acc[R] = {};
  for (int k = 0; k < cols; ++k) {
    v8f sk;
    std::memcpy(&sk, s + k * frames, sizeof sk);
    for (int i = 0; i < R; ++i) acc[i] += w[i * cols + k] * sk;
  }
  for (int i = 0; i < R; ++i) std::memcpy(out + i * frames, &acc[i], sizeof acc[i]);
}

}  // namespace

HP_CPU_CLONES
void dense_product(const float* w, int rows, int cols, const float* s, int64_t frames, float* out) {
  int64_t t0 = 0;
  for (; t0 + 8 <= frames; t0 += 8) {
    int r = 0;
    for (; r + 4 <= rows; r += 4)
      dense_block<4>(w + r * cols, cols, s + t0, frames, out + r * frames + t0);
    for (; r < rows; ++r) dense_block<1>(w + r * cols, cols, s + t0, frames, out + r * frames + t0);
  }
  if (t0 == frames) return;
  // the last frames, zero-padded to 8, through the same arithmetic as every other frame
  const int64_t rest = frames - t0;
  std::vector<float> s8(static_cast<size_t>(cols) * 8, 0.0f), o8(static_cast<size_t>(rows) * 8);
  for (int k = 0; k < cols; ++k)
    std::copy(s + k * frames + t0, s + k * frames + frames, &s8[k * 8]);
  int r = 0;
  for (; r + 4 <= rows; r += 4) dense_block<4>(w + r * cols, cols, s8.data(), 8, &o8[r * 8]);
  for (; r < rows; ++r) dense_block<1>(w + r * cols, cols, s8.data(), 8, &o8[r * 8]);
  for (r = 0; r < rows; ++r) std::copy(&o8[r * 8], &o8[r * 8] + rest, out + r * frames + t0);
}

// ref: librosa/core/spectrum.py power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)),
// then max(log_spec, log_spec.max() - top_db).
HP_CPU_CLONES
void power_to_db_item(const DbConfig& cfg, const float* __restrict in, int64_t n,
                      float* __restrict out) {
  const float amin = static_cast<float>(cfg.amin);
  const float sub = static_cast<float>(10.0 * std::log10(std::max(cfg.amin, cfg.ref)));
  for (int64_t i = 0; i < n; ++i) out[i] = 10.0f * log10_positive(std::max(amin, in[i])) - sub;
  if (!cfg.top_db) return;
  float lanes[8];  // the maximum in 8 lanes, so that it vectorises
  std::fill(lanes, lanes + 8, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] = std::max(lanes[j], out[i + j]);
  }
  for (; i < n; ++i) lanes[0] = std::max(lanes[0], out[i]);
  const float top = *std::max_element(lanes, lanes + 8);
  const float floor = static_cast<float>(static_cast<double>(top) - *cfg.top_db);
  for (i = 0; i < n; ++i) out[i] = std::max(out[i], floor);
}

// ref: scipy.fftpack.dct type 2: y_k = 2 sum x_n cos(pi k (2n + 1) / 2N); norm='ortho' scales
// y_0 by sqrt(1/4N) and the others by sqrt(1/2N). ref: librosa/feature/spectral.py mfcc lifter:
// M *= 1 + (lifter / 2) sin(pi (k + 1) / lifter).
std::vector<float> dct_matrix(const MfccConfig& cfg, int n_mels) {
  std::vector<float> d(static_cast<size_t>(cfg.n_mfcc) * n_mels);
  const double n = n_mels;
  for (int k = 0; k < cfg.n_mfcc; ++k) {
    double scale = 2.0;
    if (cfg.norm) scale *= k == 0 ? std::sqrt(1.0 / (4 * n)) : std::sqrt(1.0 / (2 * n));
    if (cfg.lifter > 0) scale *= 1 + (cfg.lifter / 2) * std::sin(kPi * (k + 1) / cfg.lifter);
    for (int m = 0; m < n_mels; ++m) {
      d[static_cast<size_t>(k) * n_mels + m] =
          static_cast<float>(scale * std::cos(kPi * k * (2 * m + 1) / (2 * n)));
    }
  }
  return d;
}

// ref: scipy/signal/_savitzky_golay.py savgol_coeffs: the minimum-norm solution of A h = e_deriv
// deriv! with A[i, j] = (j - pos)^i, i.e. h = A^T (A A^T)^-1 e, solved here in float64.
std::vector<double> savgol_weights(int width, int polyorder, int deriv) {
  const int m = polyorder + 1;
  std::vector<double> out(static_cast<size_t>(width) * width);
  for (int pos = 0; pos < width; ++pos) {
    std::vector<double> g(static_cast<size_t>(m) * (m + 1), 0.0);  // [G | e] augmented
    for (int i = 0; i < m; ++i) {
      for (int k = 0; k < m; ++k) {
        for (int j = 0; j < width; ++j) g[i * (m + 1) + k] += std::pow(j - pos, i + k);
      }
    }
    double fact = 1;
    for (int i = 2; i <= deriv; ++i) fact *= i;
    g[deriv * (m + 1) + m] = fact;
    for (int c = 0; c < m; ++c) {  // Gauss-Jordan with partial pivoting
      int piv = c;
      for (int r = c + 1; r < m; ++r) {
        if (std::abs(g[r * (m + 1) + c]) > std::abs(g[piv * (m + 1) + c])) piv = r;
      }
      for (int k = 0; k <= m; ++k) std::swap(g[c * (m + 1) + k], g[piv * (m + 1) + k]);
      for (int r = 0; r < m; ++r) {
        if (r == c) continue;
        const double f = g[r * (m + 1) + c] / g[c * (m + 1) + c];
        for (int k = c; k <= m; ++k) g[r * (m + 1) + k] -= f * g[c * (m + 1) + k];
      }
    }
    for (int j = 0; j < width; ++j) {
      double h = 0;
      for (int i = 0; i < m; ++i)
        h += g[i * (m + 1) + m] / g[i * (m + 1) + i] * std::pow(j - pos, i);
      out[static_cast<size_t>(pos) * width + j] = h;
    }
  }
  return out;
}

// ref: scipy/signal/_savitzky_golay.py savgol_filter: convolve1d in float64 with the given
// mode; mode='interp' instead fits a polynomial to the first and last `width` frames
// (_fit_edges_polyfit), which is the dot product with the weights of that position.
void delta_item(const std::vector<double>& weights, int width, DeltaMode mode, const float* in,
                int rows, int64_t frames, Workspace& ws, float* out) {
  const int half = width / 2;
  const double* centre = weights.data() + static_cast<size_t>(half) * width;
  const bool interp = mode == DeltaMode::interp;
  // scipy.ndimage modes for the frames beyond either end (interp: 'constant', then refit)
  auto sample = [&](const float* x, int64_t j) -> double {
    const int64_t k = delta_index(j, frames, mode);
    return k < 0 ? 0.0 : x[k];
  };
  double* acc = Workspace::get(ws.acc, static_cast<size_t>(frames));
  for (int r = 0; r < rows; ++r) {
    const float* x = in + r * frames;
    float* y = out + r * frames;
    const int64_t lo = std::min<int64_t>(half, frames), hi = std::max<int64_t>(lo, frames - half);
    std::fill(acc + lo, acc + hi, 0.0);
    for (int j = 0; j < width; ++j) {
      const double c = centre[j];
      const float* xs = x + j - half;
      for (int64_t t = lo; t < hi; ++t) acc[t] += c * xs[t];
    }
    for (int64_t t = lo; t < hi; ++t) y[t] = static_cast<float>(acc[t]);
    for (int64_t t = 0; t < frames; ++t) {
      if (t == lo) t = hi;
      if (t >= frames) break;
      double v = 0;
      if (interp) {
        const bool left = t < half;
        const int64_t start = left ? 0 : frames - width;
        const double* wpos = weights.data() + static_cast<size_t>(t - start) * width;
        for (int j = 0; j < width; ++j) v += wpos[j] * x[start + j];
      } else {
        for (int j = 0; j < width; ++j) v += centre[j] * sample(x, t - half + j);
      }
      y[t] = static_cast<float>(v);
    }
  }
}

// ref: librosa/util/utils.py normalize: mag = |S| in float64, length = max (inf) or
// sum(mag**p)**(1/p); columns below tiny(float32) are left as they are; S / length.
void normalize_columns(const std::optional<double>& norm, float* s, int rows, int64_t frames) {
  if (!norm) return;
  const double p = *norm;
  std::vector<double> len(static_cast<size_t>(frames), 0.0);
  for (int r = 0; r < rows; ++r) {
    const float* x = s + r * frames;
    for (int64_t t = 0; t < frames; ++t) {
      const double a = std::abs(static_cast<double>(x[t]));
      if (std::isinf(p)) {
        len[t] = std::max(len[t], a);
      } else {
        len[t] += p == 2.0 ? a * a : std::pow(a, p);
      }
    }
  }
  for (int64_t t = 0; t < frames; ++t) {
    if (!std::isinf(p)) len[t] = p == 2.0 ? std::sqrt(len[t]) : std::pow(len[t], 1.0 / p);
    if (len[t] < std::numeric_limits<float>::min()) len[t] = 1.0;
  }
  for (int r = 0; r < rows; ++r) {
    float* x = s + r * frames;
    for (int64_t t = 0; t < frames; ++t) x[t] = static_cast<float>(x[t] / len[t]);
  }
}

PiptrackRange piptrack_range(int sr, int n_fft) {
  const double fmin = tuning::kFmin, fmax = std::min(tuning::kFmax, sr / 2.0);
  const int n_bins = n_fft / 2 + 1;
  PiptrackRange r{n_bins, n_bins};
  for (int k = n_bins - 1; k >= 0; --k) {
    const double f = fft_frequency(k, sr, n_fft);
    if (f >= fmin) r.lo = k;
    if (f >= fmax) r.hi = k;
  }
  return r;
}

// ref: librosa/core/pitch.py estimate_tuning(S=power) -> piptrack(threshold=0.1, ref=np.max)
// -> pitch_tuning(resolution=0.01). S is float32, so piptrack's arithmetic is float32 except
// the numba stencil's float64 intermediates (_pi_stencil) and the pitch (int64 + float32); the
// per-peak arithmetic is hptrain/features/tuning.h, shared with the GPU twin.
double estimate_tuning_item(const float* s, int n_bins, int64_t frames, int sr, int n_fft,
                            PiptrackRange range, int bins_per_octave, Workspace& ws) {
  ws.pitches.clear();
  ws.mags.clear();
  tuning_peaks(s, n_bins, frames, 0, frames, sr, n_fft, range, ws, ws.pitches, ws.mags);
  return tuning_from_peaks(ws.pitches, ws.mags, bins_per_octave);
}

void tuning_peaks(const float* s, int n_bins, int64_t frames, int64_t t_begin, int64_t t_end,
                  int sr, int n_fft, PiptrackRange range, Workspace& ws,
                  std::vector<float>& pitches, std::vector<float>& mags) {
  float* ref = Workspace::get(ws.gather, static_cast<size_t>(frames));
  std::fill(ref, ref + frames, 0.0f);
  for (int k = 0; k < n_bins; ++k) {
    const float* row = s + k * frames;
    for (int64_t t = 0; t < frames; ++t) ref[t] = std::max(ref[t], row[t]);
  }
  for (int64_t t = 0; t < frames; ++t) ref[t] = tuning::kThreshold * ref[t];
  // rows k - 1, k, k + 1 of S * (S > ref_value), and the local-maximum mask of row k
  float* rows3 = Workspace::get(ws.acc32, static_cast<size_t>(3) * frames);
  uint8_t* peak = Workspace::get(ws.signs, static_cast<size_t>(frames));
  auto thresholded = [&](int k, float* out) {
    const float* row = s + k * frames;
    for (int64_t t = 0; t < frames; ++t) out[t] = row[t] > ref[t] ? row[t] : 0.0f;
  };
  const int last = n_bins - 1;
  const int k_first = std::max(range.lo, 1);
  if (k_first < range.hi) {
    thresholded(k_first - 1, rows3 + ((k_first - 1) % 3) * frames);
    thresholded(k_first, rows3 + (k_first % 3) * frames);
  }
  for (int k = k_first; k < range.hi; ++k) {
    const float* xp = rows3 + ((k - 1) % 3) * frames;
    const float* xk = rows3 + (k % 3) * frames;
    float* xn = rows3 + ((k + 1) % 3) * frames;
    // ref: librosa/util/utils.py localmax: x[k] > x[k-1] and x[k] >= x[k+1]; the last bin only
    // needs x[k] > x[k-1]
    if (k < last) {
      thresholded(k + 1, xn);
      for (int64_t t = 0; t < frames; ++t) peak[t] = (xk[t] > xp[t]) & (xk[t] >= xn[t]);
    } else {
      for (int64_t t = 0; t < frames; ++t) peak[t] = xk[t] > xp[t];
    }
    for (int64_t t = t_begin; t < t_end; ++t) {
      if (!peak[t]) continue;
      const float sn = k < last ? s[(k + 1) * frames + t] : 0.0f;
      const tuning::Peak pk =
          tuning::peak(s[(k - 1) * frames + t], s[k * frames + t], sn, k, k == last, sr, n_fft);
      pitches.push_back(pk.pitch);
      mags.push_back(pk.mag);
    }
  }
}

double tuning_from_peaks(const std::vector<float>& pitches, const std::vector<float>& mags,
                         int bins_per_octave) {
  if (pitches.empty()) return 0.0;
  // threshold = np.median(mag[pitch > 0]) in float32
  std::vector<float> sorted = mags;
  const size_t half = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + half, sorted.end());
  float threshold = sorted[half];
  if (sorted.size() % 2 == 0) {
    const float below = *std::max_element(sorted.begin(), sorted.begin() + half);
    threshold = (below + threshold) / 2.0f;
  }
  // ref: pitch_tuning: histogram of the residuals, left edge of the first fullest bin
  int64_t counts[tuning::kBins] = {};
  bool any = false;
  for (size_t i = 0; i < pitches.size(); ++i) {
    if (!(mags[i] >= threshold) || !(pitches[i] > 0)) continue;
    any = true;
    const int b = tuning::bin_of(pitches[i], bins_per_octave);
    if (b >= 0) ++counts[b];
  }
  if (!any) return 0.0;
  return tuning::edge(static_cast<int>(std::max_element(counts, counts + tuning::kBins) - counts));
}

// ref: librosa/feature/spectral.py spectral_contrast: octave bands [0, fmin], [fmin, 2 fmin],
// ..., the last up to Nyquist; each band above the first also takes the bin just below it, each
// band but the last drops its top bin; q = max(1, rint(quantile * bins before the drop)).
ContrastBands contrast_bands(const ContrastConfig& cfg, int sr, int n_fft) {
  const int n_bins = n_fft / 2 + 1;
  ContrastBands b;
  for (int k = 0; k <= cfg.n_bands; ++k) {
    const double f_low = k == 0 ? 0.0 : cfg.fmin * std::pow(2.0, k - 1);
    const double f_high = cfg.fmin * std::pow(2.0, k);
    int first = -1, last = -1;
    for (int i = 0; i < n_bins; ++i) {
      const double f = fft_frequency(i, sr, n_fft);
      if (f >= f_low && f <= f_high) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0 || (k > 0 && first == 0)) {
      throw ConfigError("contrast band " + std::to_string(k) + " holds no FFT bin at n_fft=" +
                        std::to_string(n_fft) + "; raise n_fft or change contrast.fmin");
    }
    if (k > 0) --first;
    if (k == cfg.n_bands) last = n_bins - 1;
    const int total = last - first + 1;
    const int count = k < cfg.n_bands ? total - 1 : total;
    if (count < 1) {
      throw ConfigError("contrast band " + std::to_string(k) + " holds a single FFT bin at n_fft=" +
                        std::to_string(n_fft) + "; raise n_fft or change contrast.fmin");
    }
    b.first.push_back(first);
    b.count.push_back(count);
    b.q.push_back(std::max(1, static_cast<int>(std::nearbyint(cfg.quantile * total))));
  }
  return b;
}

namespace {
// One level of the insertion cascade: l keeps the smaller, h the larger; the rest passes on.
inline void cascade_step(float* __restrict l, float* __restrict h, const float* __restrict in_a,
                         const float* __restrict in_c, float* __restrict out_a,
                         float* __restrict out_c, int64_t n) {
  for (int64_t t = 0; t < n; ++t) {
    const float lt = l[t], ht = h[t], va = in_a[t], vc = in_c[t];
    l[t] = std::min(lt, va);
    out_a[t] = std::max(lt, va);
    h[t] = std::max(ht, vc);
    out_c[t] = std::min(ht, vc);
  }
}
}  // namespace

// np.sort(band)[:q] and [-q:] per frame. Small q: an insertion cascade over the band's rows (a
// min/max network, vectorised over frames) keeps the q smallest and largest in order; large q:
// a per-frame selection. Both then sum in ascending order, in float32 like np.mean.
HP_CPU_CLONES
void contrast_peak_valley(const ContrastBands& bands, const float* mag, int64_t frames,
                          Workspace& ws, float* peak, float* valley) {
  constexpr int kCascade = 16;
  const int nb = static_cast<int>(bands.first.size());
  for (int b = 0; b < nb; ++b) {
    const int k0 = bands.first[b], count = bands.count[b], q = bands.q[b];
    float* v = valley + b * frames;
    float* pk = peak + b * frames;
    if (q <= kCascade) {
      // lo[i][t]: i-th smallest so far (ascending); hi[i][t]: i-th largest (descending)
      float* lo = Workspace::get(ws.gather, static_cast<size_t>(2 * q) * frames);
      float* hi = lo + static_cast<size_t>(q) * frames;
      std::fill(lo, lo + q * frames, std::numeric_limits<float>::infinity());
      std::fill(hi, hi + q * frames, -std::numeric_limits<float>::infinity());
      // what level i passes down to level i + 1, ping-ponged between two buffers
      float* pass = Workspace::get(ws.acc32, static_cast<size_t>(4 * frames));
      for (int k = k0; k < k0 + count; ++k) {
        const float* row = mag + k * frames;
        for (int i = 0; i < q; ++i) {
          const float* in_a = i == 0 ? row : pass + (i % 2) * 2 * frames;
          const float* in_c = i == 0 ? row : in_a + frames;
          float* out_a = pass + ((i + 1) % 2) * 2 * frames;
          cascade_step(lo + i * frames, hi + i * frames, in_a, in_c, out_a, out_a + frames, frames);
        }
      }
      for (int64_t t = 0; t < frames; ++t) {
        float sl = 0, sh = 0;
        for (int i = 0; i < q; ++i) sl += lo[i * frames + t];
        for (int i = q - 1; i >= 0; --i) sh += hi[i * frames + t];
        v[t] = sl / static_cast<float>(q);
        pk[t] = sh / static_cast<float>(q);
      }
      continue;
    }
    float* g = Workspace::get(ws.gather, static_cast<size_t>(count));
    for (int64_t t = 0; t < frames; ++t) {
      for (int i = 0; i < count; ++i) g[i] = mag[(k0 + i) * frames + t];
      std::nth_element(g, g + q, g + count);
      std::sort(g, g + q);
      float sum = 0;
      for (int i = 0; i < q; ++i) sum += g[i];
      v[t] = sum / static_cast<float>(q);
      std::nth_element(g, g + (count - q), g + count);
      std::sort(g + (count - q), g + count);
      sum = 0;
      for (int i = count - q; i < count; ++i) sum += g[i];
      pk[t] = sum / static_cast<float>(q);
    }
  }
}

void contrast_item(const ContrastConfig& cfg, const ContrastBands& bands, const float* mag,
                   int64_t frames, Workspace& ws, float* out) {
  const int nb = static_cast<int>(bands.first.size());
  float* valley = Workspace::get(ws.valley, static_cast<size_t>(nb) * frames);
  float* peak = Workspace::get(ws.peak, static_cast<size_t>(nb) * frames);
  contrast_peak_valley(bands, mag, frames, ws, peak, valley);
  const int64_t n = static_cast<int64_t>(nb) * frames;
  if (cfg.linear) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(double(peak[i]) - double(valley[i]));
    return;
  }
  // power_to_db(peak) - power_to_db(valley) with librosa's defaults, each floored at its own
  // maximum over the item's bands and frames (librosa does this in float64; the dB values here
  // are within 1e-5 dB of it)
  const DbConfig defaults;
  float* db = Workspace::get(ws.gather, static_cast<size_t>(n));
  power_to_db_item(defaults, valley, n, db);
  power_to_db_item(defaults, peak, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] -= db[i];
}

// ref: librosa/feature/spectral.py zero_crossing_rate: edge padding, frames, and
// librosa/core/audio.py zero_crossings(threshold, zero_pos, pad=False) along each frame: values
// within +-threshold are 0, a crossing is a sign change from the previous sample in the frame.
// Counted here once over the padded signal, in blocks of gcd(hop, frame) samples.
HP_CPU_CLONES
void zcr_item(const ZcrConfig& cfg, const float* y, int64_t n, int64_t frames, Workspace& ws,
              float* out) {
  const PaddedSignal padded(y, n, cfg.center ? cfg.frame_length / 2 : 0, PadMode::edge, ws.edges);
  const int64_t len = padded.size();
  // |x| <= threshold in float64 is |x| <= thr for the largest float thr <= threshold
  float thr = static_cast<float>(cfg.threshold);
  if (static_cast<double>(thr) > cfg.threshold) thr = std::nextafter(thr, 0.0f);
  // sign class of each sample: zero_pos: negative or not; else -1, 0, 1 (as 0, 1, 2)
  uint8_t* __restrict sg = Workspace::get(ws.signs, static_cast<size_t>(2 * len));
  uint8_t* __restrict cr = sg + len;  // cr[i]: a crossing between samples i - 1 and i
  constexpr int64_t kPiece = 4096;
  float* scratch = Workspace::get(ws.scratch, static_cast<size_t>(kPiece));
  for (int64_t p0 = 0; p0 < len; p0 += kPiece) {
    const int64_t m = std::min(kPiece, len - p0);
    const float* __restrict xs = padded.span(p0, m, scratch);
    uint8_t* __restrict sp = sg + p0;
    if (cfg.zero_pos) {
      for (int64_t i = 0; i < m; ++i) sp[i] = xs[i] < -thr;
    } else {
      for (int64_t i = 0; i < m; ++i)
        sp[i] = static_cast<uint8_t>(1 + (xs[i] > thr) - (xs[i] < -thr));
    }
  }
  cr[0] = 0;
  for (int64_t i = 1; i < len; ++i) cr[i] = sg[i] != sg[i - 1];
  const int g = std::gcd(cfg.hop_length, cfg.frame_length);
  const int64_t blocks = (len + g - 1) / g;
  int32_t* pb = Workspace::get(ws.crossings, static_cast<size_t>(blocks + 1));
  pb[0] = 0;
  for (int64_t b = 0; b < blocks; ++b) {  // crossings at positions [b g, (b + 1) g)
    int32_t c = 0;
    const int64_t end = std::min<int64_t>((b + 1) * g, len);
    for (int64_t i = b * g; i < end; ++i) c += cr[i];
    pb[b + 1] = pb[b] + c;
  }
  for (int64_t t = 0; t < frames; ++t) {  // positions s + 1 .. s + frame - 1
    const int64_t s = t * cfg.hop_length;
    const int32_t count = pb[(s + cfg.frame_length) / g] - pb[s / g] - cr[s];
    out[t] = static_cast<float>(double(count) / cfg.frame_length);
  }
}

// ref: librosa/feature/spectral.py rms(y=...): pad, frame, sqrt(mean(x**2)) per frame; here
// from float64 sums of the float32 squares over blocks of gcd(hop, frame) samples.
HP_CPU_CLONES
void rms_item(const RmsConfig& cfg, PadMode mode, const float* y, int64_t n, int64_t frames,
              Workspace& ws, float* out) {
  const PaddedSignal padded(y, n, cfg.center ? cfg.frame_length / 2 : 0, mode, ws.edges);
  const int64_t len = padded.size();
  const int g = std::gcd(cfg.hop_length, cfg.frame_length);
  const int64_t blocks = (len + g - 1) / g;
  // q[b]: the float64 sum of block b's squares; a frame adds its blocks left to right (not a
  // difference of prefix sums, whose rounding would depend on where the signal starts: a file
  // streamed in windows gets the same values as the whole file)
  double* q = Workspace::get(ws.prefix, static_cast<size_t>(blocks));
  float* scratch = Workspace::get(ws.scratch, static_cast<size_t>(g));
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t m = std::min<int64_t>(g, len - b * g);
    const float* x = padded.span(b * g, m, scratch);
    double lanes[4] = {0, 0, 0, 0};  // 4 independent sums: no serial chain of additions
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      for (int j = 0; j < 4; ++j) lanes[j] += static_cast<double>(x[i + j] * x[i + j]);
    }
    for (; i < m; ++i) lanes[0] += static_cast<double>(x[i] * x[i]);
    q[b] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
  const int64_t per_frame = cfg.frame_length / g;
  for (int64_t t = 0; t < frames; ++t) {
    const double* qb = q + t * cfg.hop_length / g;
    double sum = 0;
    for (int64_t k = 0; k < per_frame; ++k) sum += qb[k];
    out[t] = static_cast<float>(std::sqrt(sum / cfg.frame_length));
  }
}

Plan::Plan(const FeatureConfig& c)
    : cfg(c),
      stft(c.stft),
      mel_fb(mel_filter_bank(c.mel, c.sr, c.stft.n_fft), c.mel.n_mels, c.stft.n_fft / 2 + 1),
      dct(dct_matrix(c.mfcc, c.mel.n_mels)),
      savgol{savgol_weights(c.delta.width, 1, 1), savgol_weights(c.delta.width, 2, 2)},
      delta_mode(parse_delta_mode(c.delta.mode)),
      rms_pad_mode(parse_pad_mode(c.rms.pad_mode)),
      bands(contrast_bands(c.contrast, c.sr, c.stft.n_fft)),
      pip(piptrack_range(c.sr, c.stft.n_fft)) {
  tables.window = stft.window;
  tables.mel_fb = mel_filter_bank(c.mel, c.sr, c.stft.n_fft);
  tables.dct = dct;
  tables.savgol[0] = savgol[0];
  tables.savgol[1] = savgol[1];
  tables.band_first = bands.first;
  tables.band_count = bands.count;
  tables.band_q = bands.q;
  tables.pip_lo = pip.lo;
  tables.pip_hi = pip.hi;
  tables.chroma_fb = [this](double tuning) { return chroma_fb(tuning); };
}

std::shared_ptr<const std::vector<float>> Plan::chroma_fb(double tuning) const {
  std::lock_guard<std::mutex> lock(chroma_mutex_);
  auto& slot = chroma_cache_[tuning];
  if (!slot) {
    slot = std::make_shared<const std::vector<float>>(
        chroma_filter_bank(cfg.chroma, cfg.sr, cfg.stft.n_fft, tuning));
  }
  return slot;
}

std::shared_ptr<const Plan> plan_for(const FeatureConfig& cfg) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Plan>> cache;
  std::ostringstream key;
  key.precision(17);
  key << cfg;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key.str());
  if (it != cache.end()) return it->second;
  if (cache.size() >= 16) cache.clear();
  auto plan = std::make_shared<const Plan>(cfg);
  cache.emplace(key.str(), plan);
  return plan;
}

}  // namespace hptrain::features::detail
