// The loudness measurements of preprocessing (private to hp_preprocess): EBU R128 integrated
// loudness with the sample and true peak (libebur128), and BS.1770 K-weighting for the ungated
// loudness; each the value libebur128 gives.
#pragma once

#include <ebur128.h>

#include <cstddef>
#include <memory>

namespace hptrain::preprocess::detail {

class TruePeak;  // loudness.cpp

// EBU R128 integrated loudness, sample and true peak of a mono signal (libebur128; the true peak
// by TruePeak, the same value). Long spans are measured on two threads: the loudness on one, the
// true peak on the other.
class Meter {
 public:
  explicit Meter(int sr);
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  void add(const float* x, size_t n);
  double lufs() const;
  double true_peak() const;  // dBTP's linear value: the larger of the interpolated and sample peak
  double sample_peak() const;

 private:
  // below this a span is measured on the calling thread (a thread's start costs ~50 us)
  static constexpr size_t kParallelSamples = 1 << 15;
  ebur128_state* st_;
  std::unique_ptr<TruePeak> tp_;
};

// BS.1770 K-weighting (pre-filter shelf, then the RLB high-pass) as one biquad pair, with the
// coefficients libebur128 derives for any rate.
// ref: libebur128 ebur128.c ebur128_init_filter
class KWeighting {
 public:
  explicit KWeighting(int sr);
  // Adds the squares of the filtered samples to `sum`.
  void add(const float* x, size_t n, double& sum);

 private:
  double b1_[3], a1_[3], b2_[3], a2_[3];
  double s1_[2] = {0, 0}, s2_[2] = {0, 0};
};

// ungated_loudness's formula on a mean square.
double loudness_of(double sum, size_t n);

}  // namespace hptrain::preprocess::detail
