// The GPU-vs-CPU twin fixture of tests/cuda/*_cuda_test.cpp: the tolerances, each with its
// reason, and Twin, one body per kernel run over the cases of gpu_fixture.h (batch 1, 3, 257;
// lengths off the hop grid, shorter than n_fft, ragged), outputs fenced by guards.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gpu_fixture.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/framing.h"
#include "hptrain/cuda/loops.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/tables.h"
#include "hptrain/features/tuning.h"

namespace hptrain::cuda::test {

// Tolerances, |gpu - cpu| <= atol + rtol |cpu|, each with its reason.
// STFT: both FFTs are float64, then cast to float32: at most an ulp or two apart.
constexpr double kStftAtol = 1e-6, kStftRtol = 1e-5;
// Filter-bank products of non-negative terms: float32 sums of up to 1025 terms in another order
// (cuBLAS blocks k; the CPU sums in k order): a few 1e-6 relative.
constexpr double kBankAtol = 1e-7, kBankRtol = 5e-5;
// dB: log10f against the CPU's Cephes polynomial (2e-7 relative in log10) on values up to 100 dB.
constexpr double kDbAtol = 1e-4, kDbRtol = 1e-6;
// MFCC: a DCT of dB values (|x| <= ~100) with mixed signs over n_mels terms, float32.
constexpr double kMfccAtol = 2e-3, kMfccRtol = 1e-5;
// Fused STFT + mel: the STFT's last-bit differences (kStftRtol on |X|^2) carried through sums of
// non-negative terms, added in the CPU's k order without FMA.
constexpr double kFusedMelAtol = 1e-6, kFusedMelRtol = 2e-5;
// The same with a float32 FFT: its round-off (~1e-6 of the frame's largest bin) swamps the
// quiet bins, so atol scales with the batch's largest mel value.
constexpr double kFloatFftAtol = 2e-5, kFloatFftRtol = 1e-4;
// Deltas: the same float64 sums in the same order from the same float32 input.
constexpr double kDeltaAtol = 1e-6, kDeltaRtol = 1e-6;
// Contrast: identical selections and float32 sums; dB through log10f (see kDbAtol), twice.
constexpr double kContrastAtol = 3e-4, kContrastRtol = 1e-6;
// ZCR counts are exact; RMS: float64 sums of float32 squares in another order.
constexpr double kZcrAtol = 0, kZcrRtol = 0;
constexpr double kRmsAtol = 1e-7, kRmsRtol = 1e-6;
// Statistics: float64 sums of the same float32 values in another order.
constexpr double kStatsAtol = 1e-6, kStatsRtol = 1e-5;

class Twin : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    HP_REQUIRE_GPU();
    c_ = GetParam();
    cfg_ = c_.cfg;
    y_ = random_audio(c_);
    if (c_.ragged) lengths_ = random_lengths(c_);
    d_y_ = upload(y_);
    if (c_.ragged) d_len_ = upload(lengths_);
    T_ = features::n_frames(cfg_, c_.n_samples);
    F_ = cfg_.stft.n_fft / 2 + 1;
    tables_ = features::feature_tables(cfg_);
  }
  Lengths lengths() const { return d_len_.data(); }
  // The case's clips on the device, and a device batch of `rows` rows in the STFT's frames.
  features::Signal clips() const { return {d_y_.data(), lengths(), c_.batch, c_.n_samples}; }
  features::FrameBatch frames(const float* d, int64_t rows) const {
    return {d, c_.batch, static_cast<int>(rows), T_,
            ValidFrames{lengths(), c_.n_samples, features::stft_framing(cfg_.stft)}};
  }
  // Frames of item b that are its own (all T for equal lengths).
  int64_t valid(int64_t b, int frame, int hop, bool center) const {
    const int64_t n = c_.ragged ? lengths_[b] : c_.n_samples;
    const int64_t padded = n + (center ? 2 * (frame / 2) : 0);
    return padded < frame ? 0 : 1 + (padded - frame) / hop;
  }
  int64_t valid(int64_t b) const {
    return valid(b, cfg_.stft.n_fft, cfg_.stft.hop(), cfg_.stft.center);
  }
  // The CPU twin's input on its own: item b's first length samples (ragged) or the whole batch.
  std::vector<float> clip(int64_t b) const {
    const int64_t n = c_.ragged ? lengths_[b] : c_.n_samples;
    return std::vector<float>(y_.begin() + b * c_.n_samples, y_.begin() + b * c_.n_samples + n);
  }
  // |STFT|^power from the CPU, [batch, F, T] with every item padded to T frames (the GPU twins'
  // input for ragged batches), and per item as the CPU computes it.
  Tensor3 cpu_spec(double power, std::vector<Tensor3>* items = nullptr) const {
    if (!c_.ragged) {
      Tensor3 s;
      features::stft(cfg_.stft, y_.data(), c_.batch, c_.n_samples, s, power);
      return s;
    }
    Tensor3 all(c_.batch, F_, T_);
    for (int64_t b = 0; b < c_.batch; ++b) {
      const std::vector<float> y = clip(b);
      Tensor3 s;
      features::stft(cfg_.stft, y.data(), 1, static_cast<int64_t>(y.size()), s, power);
      for (int64_t k = 0; k < F_; ++k) {
        std::copy(s.item(0) + k * s.frames, s.item(0) + (k + 1) * s.frames, &all.at(b, k, 0));
      }
      if (items != nullptr) items->push_back(std::move(s));
    }
    return all;
  }
  // Compares the valid frames of every item of gpu [batch, rows, T] with cpu_item(b).
  template <class CpuItem>
  void expect_items(const std::string& what, const std::vector<float>& gpu, int64_t rows,
                    int64_t frames, CpuItem cpu_item, double atol, double rtol, int frame = 0,
                    int hop = 0, bool center = true) const {
    for (int64_t b = 0; b < c_.batch; ++b) {
      const int64_t v = frame ? valid(b, frame, hop, center) : valid(b);
      const std::vector<float> ref = cpu_item(b);
      ASSERT_EQ(ref.size(), static_cast<size_t>(rows * v)) << what << " item " << b;
      ASSERT_TRUE(
          all_close(what + " item " + std::to_string(b) + " seed " + std::to_string(c_.seed),
                    item_frames(gpu, rows, frames, b, v), ref, atol, rtol));
    }
  }
  // The CPU's mel power spectrogram, item b scaled by 10^(b % 7 - 3): a dB floor taken over
  // the batch instead of over each item would show.
  Tensor3 scaled_mel() const {
    Tensor3 mel;
    features::mel_spectrogram(cfg_.mel, cfg_.sr, cpu_spec(2.0), mel);
    for (int64_t b = 0; b < mel.batch; ++b) {
      for (int64_t j = 0; j < mel.rows * mel.frames; ++j)
        mel.item(b)[j] *= std::pow(10.0f, static_cast<float>(b % 7 - 3));
    }
    return mel;
  }
  // The CPU's power_to_db of item b's own frames of x [batch, rows, T].
  Tensor3 cpu_db_item(const Tensor3& x, int64_t b) const {
    Tensor3 one(1, x.rows, valid(b)), db;
    one.data = item_frames(x, b, valid(b));
    features::power_to_db(cfg_.db, one, db);
    return db;
  }
  std::vector<float> upload_spec_and_keep(const Tensor3& t, DeviceBuffer<float>& d) const {
    d = upload(t.data);
    return t.data;
  }

  Case c_;
  features::FeatureConfig cfg_;
  std::vector<float> y_;
  std::vector<int64_t> lengths_;
  DeviceBuffer<float> d_y_;
  DeviceBuffer<int64_t> d_len_;
  int64_t T_ = 0, F_ = 0;
  std::shared_ptr<const features::FeatureTables> tables_;
  Context ctx_{FftFraming::kernel};  // the default, automatic, would take radix or callbacks
  Context callbacks_ctx_{FftFraming::callbacks};
  Context radix_ctx_{FftFraming::radix};
  // The STFT's framings (FftFraming), each held to the CPU by the tests that frame: the own FFT
  // (radix) where it takes the configuration, with a float32 FFT only.
  struct Framed {
    const char* name;
    Context* ctx;
    bool float64;  // takes a float64 FFT too
  };
  std::vector<Framed> framings() {
    std::vector<Framed> f = {{"kernel", &ctx_, true}, {"callbacks", &callbacks_ctx_, true}};
    if (radix_fits(cfg_.stft)) f.push_back({"radix", &radix_ctx_, false});
    return f;
  }
};

}  // namespace hptrain::cuda::test
