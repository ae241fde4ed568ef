// The loudness measurements of preprocessing (loudness.h).
#include "preprocess/loudness.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/parallel.h"

namespace hptrain::preprocess::detail {

// The blocks TruePeak works in (process.cpp's decoding block).
constexpr size_t kBlock = 1 << 16;

// The true and sample peak of a mono signal exactly as libebur128 1.2.6 measures them (the same
// float and double values: its interpolator's arithmetic in its order), about 3x faster: its 49-tap
// polyphase interpolator by 4 (below 96 kHz) or 2 (below 192 kHz) over a contiguous block per
// tap instead of a ring buffer per sample, and the identity phase (one tap of 1.0: the input
// delayed) left to the sample peak. Memory: one block.
// ref: libebur128 ebur128.c interp_create, interp_process, ebur128_check_true_peak,
// ebur128_true_peak (the maximum of the true and the sample peak)
class TruePeak {
 public:
  // Whether libebur128 interpolates at this rate (below 192 kHz); above, its true peak is the
  // sample peak, and Meter takes both from libebur128 itself.
  static bool interpolates(int sr) { return sr < 192000; }

  explicit TruePeak(int sr) {
    // volatile: the coefficients from the C library's sin and cos at run time, as libebur128
    // computes them, never folded by the compiler
    volatile unsigned taps_v = 49, factor_v = sr < 96000 ? 4 : 2;
    const unsigned taps = taps_v, factor = factor_v;
    delay_ = (taps + factor - 1) / factor;
    phases_.resize(factor);
    for (unsigned j = 0; j < taps; ++j) {
      const double m = static_cast<double>(j) - static_cast<double>(taps - 1) / 2.0;
      double c = 1.0;
      if (std::fabs(m) > kAlmostZero) c = std::sin(m * M_PI / factor) / (m * M_PI / factor);
      c *= 0.5 * (1 - std::cos(2 * M_PI * j / (taps - 1)));
      if (std::fabs(c) > kAlmostZero) {
        phases_[j % factor].coeff.push_back(c);
        phases_[j % factor].index.push_back(j / factor);
      }
    }
    // history of delay_ - 1 samples (zeros before the signal), then the block
    x_.assign(delay_ - 1 + kBlock, 0.0);
  }

  void add(const float* x, size_t n) {
    const size_t h = delay_ - 1;
    for (size_t p = 0; p < n; p += kBlock) {
      const size_t b = std::min(kBlock, n - p);
      // ref: (float)(src / scaling_factor), scaling_factor 1 for float
      std::copy(x + p, x + p + b, x_.begin() + static_cast<std::ptrdiff_t>(h));
      sample_peak_ = std::max(sample_peak_, abs_max(x + p, b));
      for (const Phase& f : phases_) {
        if (f.coeff.size() == 1 && f.coeff[0] == 1.0) continue;  // the input, delayed
        peak_ = std::max(peak_, phase_peak(f, x_.data() + h, b));
      }
      std::copy(x_.begin() + static_cast<std::ptrdiff_t>(b),
                x_.begin() + static_cast<std::ptrdiff_t>(b + h), x_.begin());
    }
  }

  // The largest interpolated value; libebur128's true peak is the larger of it and the sample
  // peak (the identity phase's outputs, and the last delay - 1 samples, which no output shows).
  double interpolated_peak() const { return peak_; }
  // The largest |sample|: libebur128's sample peak (its max of fabs((double) x), exact in float).
  // ref: libebur128 ebur128.c ebur128_filter_float's EBUR128_MODE_SAMPLE_PEAK loop
  double sample_peak() const { return sample_peak_; }

 private:
  static constexpr double kAlmostZero = 0.000001;  // ref: ebur128.c ALMOST_ZERO
  static constexpr size_t kBlock = 4096;
  static constexpr size_t kLanes = 16;
  struct Phase {
    std::vector<double> coeff;
    std::vector<unsigned> index;  // the tap reads the input `index` samples back
  };

  // max |x| over n samples (0 for none; a NaN is passed over, as libebur128's comparisons do)
  static float abs_max(const float* x, size_t n) {
    float lanes[8] = {};  // in 8 lanes, so that it vectorises
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (size_t j = 0; j < 8; ++j) lanes[j] = std::max(lanes[j], std::fabs(x[i + j]));
    }
    for (; i < n; ++i) lanes[0] = std::max(lanes[0], std::fabs(x[i]));
    return *std::max_element(lanes, lanes + 8);
  }

  // max |(float) acc| over the b outputs of one phase; acc = 0.0 + x[i - index[t]] * coeff[t]
  // for t in order (interp_process's sum), kLanes outputs at a time
  __attribute__((target_clones("avx2", "default"))) static float phase_peak(const Phase& f,
                                                                            const double* x,
                                                                            size_t b) {
    const size_t taps = f.coeff.size();
    size_t i = 0;
    // four vectors of four doubles (GCC vector extension: element-wise, no reassociation)
    typedef double V4 __attribute__((vector_size(32), aligned(8)));
    typedef float F4 __attribute__((vector_size(16)));
    F4 lane[kLanes / 4] = {};
    for (; i + kLanes <= b; i += kLanes) {
      V4 acc[kLanes / 4] = {};
      for (size_t t = 0; t < taps; ++t) {
        const double* s = x + i - f.index[t];
        const double c = f.coeff[t];
        const V4 cv = {c, c, c, c};
        for (size_t l = 0; l < kLanes / 4; ++l) {
          V4 v;
          std::memcpy(&v, s + 4 * l, sizeof v);
          acc[l] += v * cv;
        }
      }
      for (size_t l = 0; l < kLanes / 4; ++l) {
        const F4 v = __builtin_convertvector(acc[l], F4);  // ref: *outp = (float)acc
        const F4 a = v < 0 ? -v : v;
        lane[l] = a > lane[l] ? a : lane[l];
      }
    }
    float peak = 0.0f;
    for (; i < b; ++i) {
      double acc = 0.0;
      for (size_t t = 0; t < taps; ++t) acc += x[i - f.index[t]] * f.coeff[t];
      peak = std::max(peak, std::fabs(static_cast<float>(acc)));
    }
    for (const F4& v : lane) {
      for (int l = 0; l < 4; ++l) peak = std::max(peak, v[l]);
    }
    return peak;
  }

  unsigned delay_ = 0;
  std::vector<Phase> phases_;
  std::vector<double> x_;
  float peak_ = 0.0f;
  float sample_peak_ = 0.0f;
};

Meter::Meter(int sr)
    : st_(ebur128_init(
          1, static_cast<unsigned long>(sr),
          EBUR128_MODE_I |
              (TruePeak::interpolates(sr) ? 0
                                          : EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK))) {
  if (st_ == nullptr) throw Error("libebur128: cannot create a meter at " + std::to_string(sr));
  ebur128_set_channel(st_, 0, EBUR128_CENTER);
  if (TruePeak::interpolates(sr)) tp_ = std::make_unique<TruePeak>(sr);
}

Meter::~Meter() {
  worker_.reset();  // its jobs use st_
  ebur128_destroy(&st_);
}

void Meter::loudness(const float* x, size_t n) {
  if (ebur128_add_frames_float(st_, x, n) != EBUR128_SUCCESS) {
    throw Error("libebur128: cannot add frames");
  }
}

void Meter::add(const float* x, size_t n) {
  added_ += n;
  if (!worker_ && (added_ < kParallelSamples || resolve_threads(0) < 2)) {
    loudness(x, n);
  } else {
    if (!worker_) worker_ = std::make_unique<SerialWorker>(kQueued);
    for (size_t p = 0; p < n; p += kBlock) {  // by blocks, so that the thread starts early
      last_ = worker_->run([this, b = std::vector<float>(x + p, x + p + std::min(kBlock, n - p)),
                            previous = std::move(last_)]() mutable {
        if (previous.valid()) previous.get();  // a block that failed: the rest is not measured
        loudness(b.data(), b.size());
      });
    }
  }
  if (tp_ != nullptr) tp_->add(x, n);
}

void Meter::finish() {
  if (last_.valid()) last_.get();
}

double Meter::lufs() {
  finish();
  double v = 0;
  ebur128_loudness_global(st_, &v);
  return v;
}

double Meter::true_peak() {
  if (tp_ != nullptr) return std::max(tp_->interpolated_peak(), sample_peak());
  finish();
  double v = 0;
  ebur128_true_peak(st_, 0, &v);
  return v;
}

double Meter::sample_peak() {
  if (tp_ != nullptr) return tp_->sample_peak();
  finish();
  double v = 0;
  ebur128_sample_peak(st_, 0, &v);
  return v;
}

KWeighting::KWeighting(int sr) {
  const double pi = 3.14159265358979323846;
  double f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196;
  double k = std::tan(pi * f0 / sr);
  const double vh = std::pow(10.0, g / 20.0), vb = std::pow(vh, 0.4996667741545416);
  const double a0 = 1.0 + k / q + k * k;
  const double pb[3] = {(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
                        (vh - vb * k / q + k * k) / a0};
  const double pa[3] = {1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = std::tan(pi * f0 / sr);
  const double rb[3] = {1.0, -2.0, 1.0};
  const double ra[3] = {1.0, 2.0 * (k * k - 1.0) / (1.0 + k / q + k * k),
                        (1.0 - k / q + k * k) / (1.0 + k / q + k * k)};
  for (int i = 0; i < 3; ++i) {
    b1_[i] = pb[i];
    a1_[i] = pa[i];
    b2_[i] = rb[i];
    a2_[i] = ra[i];
  }
}

void KWeighting::add(const float* x, size_t n, double& sum) {
  for (size_t i = 0; i < n; ++i) {
    // two direct-form-II biquads
    const double w1 = x[i] - a1_[1] * s1_[0] - a1_[2] * s1_[1];
    const double y1 = b1_[0] * w1 + b1_[1] * s1_[0] + b1_[2] * s1_[1];
    s1_[1] = s1_[0];
    s1_[0] = w1;
    const double w2 = y1 - a2_[1] * s2_[0] - a2_[2] * s2_[1];
    const double y2 = b2_[0] * w2 + b2_[1] * s2_[0] + b2_[2] * s2_[1];
    s2_[1] = s2_[0];
    s2_[0] = w2;
    sum += y2 * y2;
  }
}

double loudness_of(double sum, size_t n) {
  return n == 0 ? -std::numeric_limits<double>::infinity() : -0.691 + 10.0 * std::log10(sum / n);
}

}  // namespace hptrain::preprocess::detail
