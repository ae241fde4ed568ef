// Helpers of the GPU-vs-CPU twin tests: the cases (configs x awkward batch shapes), seeded
// audio, device copies and outputs fenced by guard values.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "hptrain/cuda/extract.h"
#include "hptrain/features/config.h"
#include "hptrain/features/cpu.h"
#include "support/support.h"

namespace hptrain::cuda::test {

using ::hptrain::test::all_close;

// A configuration and a batch shape. lengths empty: every item has n_samples.
struct Case {
  std::string name;
  features::FeatureConfig cfg;
  int64_t batch = 1;
  int64_t n_samples = 0;
  bool ragged = false;  // items of random lengths in [n_samples / 2, n_samples]
  uint64_t seed = 1;
};
inline std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.name;
}

// A device copy of host values, complete when this returns.
template <class T>
DeviceBuffer<T> upload(const std::vector<T>& host) {
  DeviceBuffer<T> d = to_device(host, nullptr);
  HP_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  return d;
}

// The host copy of a device buffer, after all queued device work.
template <class T>
std::vector<T> download(const DeviceBuffer<T>& d) {
  std::vector<T> host(d.size());
  HP_CUDA_CHECK(cudaDeviceSynchronize());
  HP_CUDA_CHECK(cudaMemcpy(host.data(), d.data(), host.size() * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

// An output of n floats on the device fenced by kGuard sentinels each side; read() synchronises,
// checks the fences and returns the n values.
class Guarded {
 public:
  static constexpr size_t kGuard = 256;
  static constexpr float kSentinel = -1234.5f;
  explicit Guarded(size_t n);
  float* data() const { return buf_.data() + kGuard; }
  std::vector<float> read(const std::string& what) const;

 private:
  size_t n_;
  DeviceBuffer<float> buf_;
};

namespace detail {

// Every option off its preset default, to reach the branches the presets leave out.
inline features::FeatureConfig variant() {
  features::FeatureConfig c = features::preset("speech");
  c.stft.n_fft = 480;  // not a power of two: cuFFT's mixed-radix plans
  c.stft.window = "hamming";
  c.stft.win_length = 300;
  c.stft.hop_length = 128;
  c.stft.pad_mode = "reflect";
  c.mel.htk = true;
  c.mel.norm.reset();
  c.mel.power = 1.0;
  c.db.top_db.reset();
  c.mfcc.lifter = 22;
  c.delta.mode = "nearest";
  c.delta.width = 5;
  c.chroma.tuning = 0.25;
  c.chroma.norm = 2.0;
  c.contrast.linear = true;
  c.contrast.quantile = 0.1;
  c.zcr.zero_pos = false;
  c.zcr.threshold = 1e-3;
  c.zcr.center = false;
  c.rms.pad_mode = "edge";
  c.rms.frame_length = 400;
  return c;
}

}  // namespace detail

// Every config (speech, librosa-default, a variant that takes every other branch) at batch 1,
// 3 and 257, lengths off the hop grid and shorter than n_fft, and a ragged batch.
inline std::vector<Case> twin_cases() {
  std::vector<Case> cases;
  const std::pair<std::string, features::FeatureConfig> configs[] = {
      {"speech", features::preset("speech")},
      {"librosa_default", features::preset("librosa-default")},
      {"variant", detail::variant()}};
  uint64_t seed = 1;
  for (const auto& [name, cfg] : configs) {
    const int64_t hop = cfg.stft.hop(), n_fft = cfg.stft.n_fft;
    cases.push_back({name + "_b1_offgrid", cfg, 1, 12 * hop + 37, false, seed++});
    cases.push_back({name + "_b3_short", cfg, 3, n_fft - 100, false, seed++});
    cases.push_back({name + "_b257", cfg, 257, 10 * hop + 3, false, seed++});
    cases.push_back({name + "_b5_ragged", cfg, 5, 30 * hop + 11, true, seed++});
  }
  return cases;
}

// Seeded audio [batch, n_samples] in [-0.5, 0.5) with a few exact zeros and a silent run per
// item (ZCR's threshold, all-zero frames, power_to_db's amin, chroma's tiny columns).
inline std::vector<float> random_audio(const Case& c) {
  std::mt19937_64 rng(c.seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> y(static_cast<size_t>(c.batch * c.n_samples));
  for (float& v : y) v = u(rng);
  for (size_t i = 0; i < y.size(); i += 97) y[i] = 0.0f;
  // a silent run in every item: all-zero frames, power_to_db's amin, chroma's tiny columns
  for (int64_t b = 0; b < c.batch; ++b) {
    const int64_t run = std::min<int64_t>(c.n_samples / 3, 2 * c.cfg.stft.n_fft);
    std::fill_n(y.begin() + b * c.n_samples, run, 0.0f);
  }
  return y;
}

// Lengths of a ragged case in [n_samples / 2, n_samples], the last item full.
inline std::vector<int64_t> random_lengths(const Case& c) {
  std::mt19937_64 rng(c.seed + 1000);
  std::uniform_int_distribution<int64_t> u(c.n_samples / 2, c.n_samples);
  std::vector<int64_t> lengths(static_cast<size_t>(c.batch));
  for (int64_t& n : lengths) n = u(rng);
  lengths.back() = c.n_samples;
  return lengths;
}

inline Guarded::Guarded(size_t n) : n_(n), buf_(n + 2 * kGuard, nullptr) {
  const std::vector<float> fill(n + 2 * kGuard, kSentinel);
  HP_CUDA_CHECK(
      cudaMemcpy(buf_.data(), fill.data(), fill.size() * sizeof(float), cudaMemcpyHostToDevice));
}

inline std::vector<float> Guarded::read(const std::string& what) const {
  std::vector<float> all(n_ + 2 * kGuard);
  HP_CUDA_CHECK(cudaDeviceSynchronize());
  HP_CUDA_CHECK(
      cudaMemcpy(all.data(), buf_.data(), all.size() * sizeof(float), cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < kGuard; ++i) {
    EXPECT_EQ(all[i], kSentinel) << what << ": guard before the output overwritten at " << i;
    EXPECT_EQ(all[kGuard + n_ + i], kSentinel) << what << ": guard after the output overwritten";
  }
  return std::vector<float>(all.begin() + kGuard, all.begin() + kGuard + n_);
}

// The frames t < valid of item b of x [batch, rows, frames], as [rows, valid].
inline std::vector<float> item_frames(const std::vector<float>& x, int64_t rows, int64_t frames,
                                      int64_t b, int64_t valid) {
  std::vector<float> out(static_cast<size_t>(rows * valid));
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x.data() + (b * rows + r) * frames;
    std::copy(src, src + valid, out.begin() + r * valid);
  }
  return out;
}

inline std::vector<float> item_frames(const Tensor3& x, int64_t b, int64_t valid) {
  return item_frames(x.data, x.rows, x.frames, b, valid);
}

}  // namespace hptrain::cuda::test
