// Windows and filter banks, in librosa 0.11's float64 arithmetic and order.
#include "hptrain/features/filters.h"

#include <algorithm>
#include <cmath>

#include "hptrain/error.h"

namespace hptrain::features {

namespace {

constexpr double kPi = 3.14159265358979323846;

// ref: numpy.linspace: start + i * step, the last point exactly `stop`.
std::vector<double> linspace(double start, double stop, int num, bool endpoint = true) {
  std::vector<double> y(static_cast<size_t>(num));
  const int div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / div : 0.0;
  for (int i = 0; i < num; ++i) y[i] = i * step + start;
  if (endpoint && num > 1) y[num - 1] = stop;
  return y;
}

// ref: librosa/util/utils.py normalize(S, norm, axis=0) of one column: the p-norm of |x| (inf:
// max), left as is when below float64 tiny. Returns the divisor.
double column_norm(const double* x, int n, size_t stride, double p) {
  double length = 0;
  if (std::isinf(p)) {
    for (int i = 0; i < n; ++i) length = std::max(length, std::abs(x[i * stride]));
  } else {
    for (int i = 0; i < n; ++i) {
      const double a = std::abs(x[i * stride]);
      length += p == 2.0 ? a * a : std::pow(a, p);  // numpy's x**2 is a square
    }
    length = p == 2.0 ? std::sqrt(length) : std::pow(length, 1.0 / p);  // x**0.5 is sqrt
  }
  return length < std::numeric_limits<double>::min() ? 1.0 : length;
}

}  // namespace

double fft_frequency(int k, int sr, int n_fft) {
  return k * (1.0 / (n_fft * (1.0 / sr)));  // ref: numpy.fft.rfftfreq
}

// ref: librosa/core/convert.py hz_to_mel
double hz_to_mel(double hz, bool htk) {
  if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  const double f_sp = 200.0 / 3;
  const double min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (hz >= min_log_hz) return min_log_mel + std::log(hz / min_log_hz) / logstep;
  return hz / f_sp;
}

// ref: librosa/core/convert.py mel_to_hz
double mel_to_hz(double mel, bool htk) {
  if (htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3;
  const double min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (mel >= min_log_mel) return min_log_hz * std::exp(logstep * (mel - min_log_mel));
  return f_sp * mel;
}

// ref: scipy/signal/windows/_windows.py general_cosine with sym=False (fftbins=True):
// computed on M + 1 points and truncated; librosa/util/utils.py pad_center.
std::vector<double> stft_window(const StftConfig& cfg) {
  const int m = cfg.win();
  std::vector<double> a;
  if (cfg.window == "hann") {
    a = {0.5, 0.5};
  } else if (cfg.window == "hamming") {
    a = {0.54, 0.46};
  } else if (cfg.window == "blackman") {
    a = {0.42, 0.50, 0.08};
  } else if (cfg.window == "boxcar") {
    a = {1.0};
  } else {
    throw ConfigError("stft.window = '" + cfg.window +
                      "': must be one of hann, hamming, blackman, boxcar");
  }
  std::vector<double> w(static_cast<size_t>(cfg.n_fft), 0.0);
  const int lpad = (cfg.n_fft - m) / 2;
  if (m == 1) {
    w[lpad] = 1.0;
    return w;
  }
  const std::vector<double> fac = linspace(-kPi, kPi, m + 1);
  for (int n = 0; n < m; ++n) {
    double v = 0;
    for (size_t k = 0; k < a.size(); ++k) v += a[k] * std::cos(static_cast<double>(k) * fac[n]);
    w[lpad + n] = v;
  }
  return w;
}

// ref: librosa/filters.py mel
std::vector<float> mel_filter_bank(const MelConfig& cfg, int sr, int n_fft) {
  const int n_bins = 1 + n_fft / 2;
  const int n_mels = cfg.n_mels;
  // ref: librosa/core/convert.py mel_frequencies: linspace in mel, back to Hz
  std::vector<double> mel_f =
      linspace(hz_to_mel(cfg.fmin, cfg.htk), hz_to_mel(cfg.fmax_or(sr), cfg.htk), n_mels + 2);
  for (double& m : mel_f) m = mel_to_hz(m, cfg.htk);
  std::vector<float> weights(static_cast<size_t>(n_mels) * n_bins);
  for (int i = 0; i < n_mels; ++i) {
    const double fdiff_lo = mel_f[i + 1] - mel_f[i];
    const double fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
    const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
    for (int k = 0; k < n_bins; ++k) {
      const double f = fft_frequency(k, sr, n_fft);
      const double lower = -(mel_f[i] - f) / fdiff_lo;
      const double upper = (mel_f[i + 2] - f) / fdiff_hi;
      // weights is float32 from the start, and `weights *= enorm` multiplies in float64
      float w = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      if (cfg.norm) w = static_cast<float>(static_cast<double>(w) * enorm);
      weights[static_cast<size_t>(i) * n_bins + k] = w;
    }
  }
  return weights;
}

// ref: librosa/filters.py chroma
std::vector<float> chroma_filter_bank(const ChromaConfig& cfg, int sr, int n_fft, double tuning) {
  const int nc = cfg.n_chroma;
  const double a440 = 440.0 * std::pow(2.0, tuning / nc);
  // frequencies = linspace(0, sr, n_fft, endpoint=False)[1:]; frqbins = n_chroma * hz_to_octs
  const std::vector<double> freqs = linspace(0, sr, n_fft, false);
  std::vector<double> frqbins(static_cast<size_t>(n_fft));
  for (int i = 1; i < n_fft; ++i) frqbins[i] = nc * std::log2(freqs[i] / (a440 / 16));
  frqbins[0] = frqbins[1] - 1.5 * nc;  // the 0 Hz bin: 1.5 octaves below bin 1
  std::vector<double> binwidth(static_cast<size_t>(n_fft), 1.0);
  for (int i = 0; i + 1 < n_fft; ++i) binwidth[i] = std::max(frqbins[i + 1] - frqbins[i], 1.0);
  const double n_chroma2 = std::nearbyint(nc / 2.0);
  std::vector<double> wts(static_cast<size_t>(nc) * n_fft);
  for (int c = 0; c < nc; ++c) {
    for (int i = 0; i < n_fft; ++i) {
      // ref: np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2 (Python modulo)
      const double x = frqbins[i] - c + n_chroma2 + 10 * nc;
      double r = std::fmod(x, static_cast<double>(nc));
      if (r != 0 && r < 0) r += nc;
      const double d = r - n_chroma2;
      const double z = 2 * d / binwidth[i];
      wts[static_cast<size_t>(c) * n_fft + i] = std::exp(-0.5 * (z * z));
    }
  }
  if (cfg.fb_norm) {
    for (int i = 0; i < n_fft; ++i) {
      const double len = column_norm(&wts[i], nc, n_fft, *cfg.fb_norm);
      for (int c = 0; c < nc; ++c) wts[static_cast<size_t>(c) * n_fft + i] /= len;
    }
  }
  if (cfg.octwidth) {
    for (int i = 0; i < n_fft; ++i) {
      const double z = (frqbins[i] / nc - cfg.ctroct) / *cfg.octwidth;
      const double g = std::exp(-0.5 * (z * z));
      for (int c = 0; c < nc; ++c) wts[static_cast<size_t>(c) * n_fft + i] *= g;
    }
  }
  const int n_bins = 1 + n_fft / 2;
  const int roll = cfg.base_c ? 3 * (nc / 12) : 0;  // np.roll(wts, -roll, axis=0)
  std::vector<float> out(static_cast<size_t>(nc) * n_bins);
  for (int c = 0; c < nc; ++c) {
    const int src = (c + roll) % nc;
    for (int i = 0; i < n_bins; ++i) {
      out[static_cast<size_t>(c) * n_bins + i] =
          static_cast<float>(wts[static_cast<size_t>(src) * n_fft + i]);
    }
  }
  return out;
}

}  // namespace hptrain::features
