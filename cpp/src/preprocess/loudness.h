// The loudness measurements of preprocessing (private to hp_preprocess): EBU R128 integrated
// loudness with the sample and true peak (libebur128), and BS.1770 K-weighting for the ungated
// loudness; each the value libebur128 gives.
#pragma once

#include <ebur128.h>

#include <cstddef>
#include <future>
#include <memory>

#include "hptrain/parallel.h"

namespace hptrain::preprocess::detail {

class TruePeak;  // loudness.cpp

// EBU R128 integrated loudness, sample and true peak of a mono signal (libebur128; below 192 kHz
// both peaks by TruePeak, the same values). Once a signal is long enough to pay for a thread,
// libebur128's loudness runs on a thread of its own, fed copies of the samples in order (a few
// blocks ahead at most), while the caller goes on: the peaks, and the decoding of the next
// block.
class Meter {
 public:
  explicit Meter(int sr);
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  void add(const float* x, size_t n);
  // The measurements of everything added (each waits for the loudness thread first).
  double lufs();
  double true_peak();  // dBTP's linear value: the larger of the interpolated and sample peak
  double sample_peak();

 private:
  // below this many samples in all a signal is measured on the calling thread (a thread's start
  // costs ~50 us); the loudness thread holds at most kQueued blocks not yet measured
  static constexpr size_t kParallelSamples = 1 << 15;
  static constexpr size_t kQueued = 8;
  void loudness(const float* x, size_t n);
  void finish();  // waits for the loudness thread to measure all; rethrows its error
  ebur128_state* st_;
  std::unique_ptr<TruePeak> tp_;
  size_t added_ = 0;
  std::unique_ptr<SerialWorker> worker_;  // the loudness thread, from kParallelSamples on
  std::future<void> last_;                // the last block handed to it
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
