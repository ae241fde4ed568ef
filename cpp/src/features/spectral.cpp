// Mel, dB, MFCC, delta and chroma products on the CPU (twin of cuda/src/spectral.cu): sparse and
// dense bank products, power_to_db, the DCT-II and Savitzky-Golay tables, column norms.
#include "kernels.h"
#include "spectral_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "hptrain/error.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/spectral.h"
#include "hptrain/features/tuning.h"

namespace hptrain::features::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;

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

}  // namespace

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
void bank_product_frames(const SparseBank& bank, const float* spec, int64_t frames, int64_t t_begin,
                         int64_t t_end, float* out) {
  constexpr int64_t kBlock = 64;  // rows x 64 frames of output stay in L1
  for (int r = 0; r < bank.rows; ++r)
    std::fill(out + r * frames + t_begin, out + r * frames + t_end, 0.0f);
  for (int64_t t0 = t_begin; t0 < t_end; t0 += kBlock) {
    const int64_t tl = std::min(kBlock, t_end - t0);
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
void dense_product_frames(const float* w, int rows, int cols, const float* s, int64_t frames,
                          int64_t t_begin, int64_t t_end, float* out) {
  int64_t t0 = t_begin;
  for (; t0 + 8 <= t_end; t0 += 8) {
    int r = 0;
    for (; r + 4 <= rows; r += 4)
      dense_block<4>(w + r * cols, cols, s + t0, frames, out + r * frames + t0);
    for (; r < rows; ++r) dense_block<1>(w + r * cols, cols, s + t0, frames, out + r * frames + t0);
  }
  if (t0 == t_end) return;
  // the last frames, zero-padded to 8, through the same arithmetic as every other frame
  const int64_t rest = t_end - t0;
  std::vector<float> s8(static_cast<size_t>(cols) * 8, 0.0f), o8(static_cast<size_t>(rows) * 8);
  for (int k = 0; k < cols; ++k) std::copy(s + k * frames + t0, s + k * frames + t_end, &s8[k * 8]);
  int r = 0;
  for (; r + 4 <= rows; r += 4) dense_block<4>(w + r * cols, cols, s8.data(), 8, &o8[r * 8]);
  for (; r < rows; ++r) dense_block<1>(w + r * cols, cols, s8.data(), 8, &o8[r * 8]);
  for (r = 0; r < rows; ++r) std::copy(&o8[r * 8], &o8[r * 8] + rest, out + r * frames + t0);
}

// ref: librosa/core/spectrum.py power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)),
// then max(log_spec, log_spec.max() - top_db).
HP_CPU_CLONES
void power_to_db_unfloored(const DbConfig& cfg, const float* __restrict in, int64_t n,
                           float* __restrict out) {
  const float amin = static_cast<float>(cfg.amin);
  const float sub = static_cast<float>(10.0 * std::log10(std::max(cfg.amin, cfg.ref)));
  for (int64_t i = 0; i < n; ++i) out[i] = 10.0f * log10_positive(std::max(amin, in[i])) - sub;
}

HP_CPU_CLONES
float max_value(const float* x, int64_t n) {
  float lanes[8];  // the maximum in 8 lanes, so that it vectorises
  std::fill(lanes, lanes + 8, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] = std::max(lanes[j], x[i + j]);
  }
  for (; i < n; ++i) lanes[0] = std::max(lanes[0], x[i]);
  return *std::max_element(lanes, lanes + 8);
}

HP_CPU_CLONES
void floor_at(float* x, int64_t n, float floor) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], floor);
}

void power_to_db_item(const DbConfig& cfg, const float* in, int64_t n, float* out) {
  power_to_db_unfloored(cfg, in, n, out);
  if (cfg.top_db) floor_at(out, n, db_floor(max_value(out, n), *cfg.top_db));
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

}  // namespace hptrain::features::detail

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

namespace {

void check_delta_frames(const DeltaConfig& cfg, int64_t frames) {
  if (cfg.mode == "interp" && frames < cfg.width) {
    throw InputError("delta: when mode='interp', width=" + std::to_string(cfg.width) +
                     " cannot exceed the number of frames=" + std::to_string(frames));
  }
}

}  // namespace

void mel_spectrogram(const MelConfig& cfg, int sr, const Tensor3& spec, Tensor3& out) {
  cfg.validate(sr);
  const int n_fft = detail::n_fft_of(spec);
  const detail::SparseBank fb(mel_filter_bank(cfg, sr, n_fft), cfg.n_mels,
                              static_cast<int>(spec.rows));
  Tensor3 result(spec.batch, cfg.n_mels, spec.frames);
  for_items(spec.batch, 0, [&](int64_t i, Workspace&) {
    detail::bank_product(fb, spec.item(i), spec.frames, result.item(i));
  });
  out = std::move(result);
}

void power_to_db(const DbConfig& cfg, const Tensor3& in, Tensor3& out) {
  cfg.validate();
  Tensor3 result(in.batch, in.rows, in.frames);
  for (int64_t i = 0; i < in.batch; ++i) {
    detail::power_to_db_item(cfg, in.item(i), in.rows * in.frames, result.item(i));
  }
  out = std::move(result);
}

void mfcc(const MfccConfig& cfg, const Tensor3& log_mel, Tensor3& out) {
  cfg.validate(static_cast<int>(log_mel.rows));
  const std::vector<float> d = detail::dct_matrix(cfg, static_cast<int>(log_mel.rows));
  Tensor3 result(log_mel.batch, cfg.n_mfcc, log_mel.frames);
  for (int64_t i = 0; i < log_mel.batch; ++i) {
    detail::dense_product(d.data(), cfg.n_mfcc, static_cast<int>(log_mel.rows), log_mel.item(i),
                          log_mel.frames, result.item(i));
  }
  out = std::move(result);
}

void delta(const DeltaArgs& a, const Tensor3& in, Tensor3& out) {
  const DeltaConfig& cfg = a.cfg;
  const int order = a.order;
  cfg.validate();
  if (order < 1 || order >= cfg.width) {
    throw ConfigError("delta order = " + std::to_string(order) + ": must be in [1, width)");
  }
  check_delta_frames(cfg, in.frames);
  const std::vector<double> w = detail::savgol_weights(cfg.width, order, order);
  const DeltaMode mode = parse_delta_mode(cfg.mode);
  Tensor3 result(in.batch, in.rows, in.frames);
  for (int64_t i = 0; i < in.batch; ++i) {
    detail::delta_item(w, cfg.width, mode, in.item(i), static_cast<int>(in.rows), in.frames,
                       detail::thread_workspace(), result.item(i));
  }
  out = std::move(result);
}

void chroma_stft(const ChromaConfig& cfg, int sr, const Tensor3& power_spec, Tensor3& out,
                 std::vector<double>* tuning) {
  cfg.validate();
  const int n_fft = detail::n_fft_of(power_spec);
  const int rows = static_cast<int>(power_spec.rows);
  Tensor3 result(power_spec.batch, cfg.n_chroma, power_spec.frames);
  std::vector<double> used(static_cast<size_t>(power_spec.batch));
  for_items(power_spec.batch, 0, [&](int64_t i, Workspace&) {
    used[i] = cfg.tuning
                  ? *cfg.tuning
                  : estimate_tuning(power_spec.item(i), rows, power_spec.frames, sr, cfg.n_chroma);
    detail::dense_product(chroma_filter_bank(cfg, sr, n_fft, used[i]).data(), cfg.n_chroma, rows,
                          power_spec.item(i), power_spec.frames, result.item(i));
    detail::normalize_columns(cfg.norm, result.item(i), cfg.n_chroma, power_spec.frames);
  });
  out = std::move(result);
  if (tuning != nullptr) *tuning = std::move(used);
}

}  // namespace hptrain::features
