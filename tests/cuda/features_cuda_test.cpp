// Every GPU twin against its CPU twin (features/cpu.h) on seeded batches of awkward shapes
// (batch 1, 3, 257; lengths off the hop grid, shorter than n_fft, ragged), outputs fenced by
// guards. One body per kernel, TEST_P over the cases of gpu_fixture.h. Skips without a GPU.
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
namespace {

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

// |STFT|^p with a float64 FFT (librosa's) and a float32 one, by every framing.
TEST_P(Twin, Stft) {
  const DeviceWindow window(tables_->window, nullptr);
  for (const Framed& framed : framings()) {
    for (const bool f64 : {true, false}) {
      if (f64 && !framed.float64) continue;
      for (const double power : {1.0, 2.0, 1.5}) {
        Guarded out(static_cast<size_t>(c_.batch * F_ * T_));
        stft(*framed.ctx, cfg_.stft, window, d_y_.data(), lengths(), c_.batch, c_.n_samples,
             out.data(), power, nullptr, f64);
        const std::string what = std::string(framed.name) + (f64 ? " float64" : " float32") +
                                 " stft power " + std::to_string(power);
        const std::vector<float> gpu = out.read(what);
        std::vector<Tensor3> items;
        const Tensor3 cpu = cpu_spec(power, &items);
        const float peak = *std::max_element(cpu.data.begin(), cpu.data.end());
        expect_items(
            what, gpu, F_, T_,
            [&](int64_t b) { return c_.ragged ? items[b].data : item_frames(cpu, b, T_); },
            f64 ? kStftAtol : kFloatFftAtol * peak,
            f64 ? kStftRtol * (power == 1.5 ? 2 : 1) : kFloatFftRtol);
      }
    }
  }
}

// The own FFT refuses, by name, what it cannot take: a float64 FFT, an n_fft it has no passes
// for.
TEST_P(Twin, RadixRefusesWhatItCannotTake) {
  const DeviceWindow window(tables_->window, nullptr);
  Guarded out(static_cast<size_t>(c_.batch * F_ * T_));
  for (const bool f64 : {true, false}) {
    if (!f64 && radix_fits(cfg_.stft)) continue;
    try {
      stft(radix_ctx_, cfg_.stft, window, d_y_.data(), lengths(), c_.batch, c_.n_samples,
           out.data(), 2.0, nullptr, f64);
      FAIL() << "radix took n_fft " << cfg_.stft.n_fft << (f64 ? " float64" : " float32");
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("n_fft = " + std::to_string(cfg_.stft.n_fft)),
                std::string::npos)
          << e.what();
    }
  }
}

TEST_P(Twin, MelSpectrogram) {
  const Tensor3 spec = cpu_spec(cfg_.mel.power == 2.0 ? 2.0 : 1.0);
  const DeviceBuffer<float> d_spec = upload(spec.data), fb = upload(tables_->mel_fb);
  Guarded out(static_cast<size_t>(c_.batch * cfg_.mel.n_mels * T_));
  mel_spectrogram(ctx_, cfg_.mel, fb.data(), d_spec.data(), c_.batch, static_cast<int>(F_), T_,
                  out.data(), nullptr);
  Tensor3 cpu;
  features::mel_spectrogram(cfg_.mel, cfg_.sr, spec, cpu);
  ASSERT_TRUE(all_close("mel", out.read("mel"), cpu.data, kBankAtol, kBankRtol));
}

// stft_mel with a float64 and a float32 FFT, framed by a kernel, by cuFFT's callbacks and by the
// own FFT (float32).
TEST_P(Twin, StftMelFused) {
  ASSERT_TRUE(stft_mel_fits(cfg_.stft));
  const DeviceWindow window(tables_->window, nullptr);
  const DeviceBuffer<float> fb = upload(tables_->mel_fb);
  const DeviceBuffer<int> range =
      upload(mel_bin_ranges(tables_->mel_fb, cfg_.mel.n_mels, static_cast<int>(F_)));
  std::vector<Tensor3> items;
  const Tensor3 power = cpu_spec(2.0, &items);
  std::vector<std::vector<float>> cpu(static_cast<size_t>(c_.batch));
  float peak = 0;
  for (int64_t b = 0; b < c_.batch; ++b) {
    Tensor3 one = c_.ragged ? items[b] : Tensor3(1, F_, T_), mel;
    if (!c_.ragged) one.data = item_frames(power, b, T_);
    features::mel_spectrogram(cfg_.mel, cfg_.sr, one, mel);
    cpu[b] = mel.data;
    for (float v : mel.data) peak = std::max(peak, v);
  }
  ItemMaxima maxima(c_.batch, nullptr);  // one for all runs: each sets it anew
  for (const Framed& framed : framings()) {
    for (const bool f64 : {true, false}) {
      if (f64 && !framed.float64) continue;
      Guarded out(static_cast<size_t>(c_.batch * cfg_.mel.n_mels * T_));
      stft_mel(*framed.ctx, cfg_.stft, window, d_y_.data(), lengths(), c_.batch, c_.n_samples,
               fb.data(), range.data(), cfg_.mel.n_mels, out.data(), nullptr, f64, &maxima);
      const std::string what =
          std::string(framed.name) + (f64 ? " stft_mel float64" : " stft_mel float32");
      const std::vector<float> gpu = out.read(what);
      // float32 FFT: round-off relative to the frame's energy, not to each bin (kFloatFftAtol)
      expect_items(
          what, gpu, cfg_.mel.n_mels, T_, [&](int64_t b) { return cpu[b]; },
          f64 ? kFusedMelAtol : kFloatFftAtol * peak, f64 ? kFusedMelRtol : kFloatFftRtol);
      // each item's key: exactly that of the largest of its own frames' values written
      const std::vector<uint32_t> keys = download(maxima.keys);
      for (int64_t b = 0; b < c_.batch; ++b) {
        const std::vector<float> own = item_frames(gpu, cfg_.mel.n_mels, T_, b, valid(b));
        const uint32_t expected =
            own.empty() ? 0 : power_key(*std::max_element(own.begin(), own.end()));
        EXPECT_EQ(keys[b], expected) << what << " item " << b << " seed " << c_.seed;
      }
    }
  }
}

// power_to_db and mfcc_from_mel floored with the maxima stft_mel found give the same bits as
// with their own pass: the maximum of the same values, which is exact in any order.
TEST_P(Twin, DbWithStftMelMaximaEqualsOwnPass) {
  const DeviceWindow window(tables_->window, nullptr);
  const DeviceBuffer<float> fb = upload(tables_->mel_fb), dct = upload(tables_->dct);
  const int n_mels = cfg_.mel.n_mels, n_mfcc = cfg_.mfcc.n_mfcc;
  const DeviceBuffer<int> range =
      upload(mel_bin_ranges(tables_->mel_fb, n_mels, static_cast<int>(F_)));
  const auto size = static_cast<size_t>(c_.batch * T_);
  Guarded mel(size * n_mels);
  ItemMaxima maxima(c_.batch, nullptr);
  stft_mel(callbacks_ctx_, cfg_.stft, window, d_y_.data(), lengths(), c_.batch, c_.n_samples,
           fb.data(), range.data(), n_mels, mel.data(), nullptr, false, &maxima);
  std::vector<float> db[2], mfcc_out[2], log_mel[2];
  for (const bool given : {false, true}) {
    const ItemMaxima* m = given ? &maxima : nullptr;
    Guarded d(size * n_mels), lm(size * n_mels), out(size * n_mfcc);
    power_to_db(cfg_.db, mel.data(), c_.batch, n_mels, T_, lengths(), c_.n_samples, cfg_.stft,
                d.data(), nullptr, m);
    mfcc_from_mel(ctx_, cfg_.db, cfg_.mfcc, dct.data(), mel.data(), c_.batch, n_mels, T_, lengths(),
                  c_.n_samples, cfg_.stft, lm.data(), out.data(), nullptr, m);
    const std::string how = given ? " (stft_mel's maxima)" : " (own pass)";
    db[given] = d.read("power_to_db" + how);
    log_mel[given] = lm.read("mfcc_from_mel's log-mel" + how);
    mfcc_out[given] = out.read("mfcc_from_mel" + how);
  }
  for (int64_t b = 0; b < c_.batch; ++b) {
    const auto own = [&](const std::vector<float>& x, int rows) {
      return item_frames(x, rows, T_, b, valid(b));
    };
    EXPECT_EQ(own(db[1], n_mels), own(db[0], n_mels)) << "power_to_db item " << b;
    EXPECT_EQ(own(log_mel[1], n_mels), own(log_mel[0], n_mels)) << "log-mel item " << b;
    EXPECT_EQ(own(mfcc_out[1], n_mfcc), own(mfcc_out[0], n_mfcc)) << "mfcc item " << b;
  }
}

TEST_P(Twin, PowerToDbPerItem) {
  const Tensor3 mel = scaled_mel();
  const DeviceBuffer<float> d_mel = upload(mel.data);
  Guarded out(mel.data.size());
  power_to_db(cfg_.db, d_mel.data(), c_.batch, cfg_.mel.n_mels, T_, lengths(), c_.n_samples,
              cfg_.stft, out.data(), nullptr);
  const std::vector<float> gpu = out.read("power_to_db");
  expect_items(
      "power_to_db", gpu, cfg_.mel.n_mels, T_, [&](int64_t b) { return cpu_db_item(mel, b).data; },
      kDbAtol, kDbRtol);
}

TEST_P(Twin, Mfcc) {
  Tensor3 mel, log_mel;
  features::mel_spectrogram(cfg_.mel, cfg_.sr, cpu_spec(2.0), mel);
  features::power_to_db(cfg_.db, mel, log_mel);
  const DeviceBuffer<float> d_in = upload(log_mel.data), dct = upload(tables_->dct);
  Guarded out(static_cast<size_t>(c_.batch * cfg_.mfcc.n_mfcc * T_));
  mfcc(ctx_, cfg_.mfcc, dct.data(), d_in.data(), c_.batch, cfg_.mel.n_mels, T_, out.data(),
       nullptr);
  Tensor3 cpu;
  features::mfcc(cfg_.mfcc, log_mel, cpu);
  ASSERT_TRUE(all_close("mfcc", out.read("mfcc"), cpu.data, kMfccAtol, kMfccRtol));
}

// power_to_db then the DCT in one kernel, the log-mel spectrogram written and not: each item
// scaled differently (its own floor), against the CPU's power_to_db then mfcc of its own frames.
TEST_P(Twin, MfccFromMel) {
  const Tensor3 mel = scaled_mel();
  std::vector<Tensor3> log_mel(static_cast<size_t>(c_.batch)), cpu(log_mel.size());
  for (int64_t b = 0; b < c_.batch; ++b) {
    log_mel[b] = cpu_db_item(mel, b);
    features::mfcc(cfg_.mfcc, log_mel[b], cpu[b]);
  }
  const DeviceBuffer<float> d_mel = upload(mel.data), dct = upload(tables_->dct);
  const int n_mfcc = cfg_.mfcc.n_mfcc, n_mels = cfg_.mel.n_mels;
  for (const bool keep_log_mel : {true, false}) {
    Guarded out(static_cast<size_t>(c_.batch * n_mfcc * T_)), lm(mel.data.size());
    mfcc_from_mel(ctx_, cfg_.db, cfg_.mfcc, dct.data(), d_mel.data(), c_.batch, n_mels, T_,
                  lengths(), c_.n_samples, cfg_.stft, keep_log_mel ? lm.data() : nullptr,
                  out.data(), nullptr);
    const std::string what = keep_log_mel ? "mfcc_from_mel, log-mel kept" : "mfcc_from_mel";
    expect_items(
        what, out.read(what), n_mfcc, T_, [&](int64_t b) { return cpu[b].data; }, kMfccAtol,
        kMfccRtol);
    if (keep_log_mel) {
      expect_items(
          "its log-mel", lm.read("its log-mel"), n_mels, T_,
          [&](int64_t b) { return log_mel[b].data; }, kDbAtol, kDbRtol);
    }
  }
}

TEST_P(Twin, DeltaBothOrders) {
  // any [batch, rows, T] input will do: the seeded audio reshaped
  const int rows = 13;
  Tensor3 in(c_.batch, rows, T_);
  for (size_t i = 0; i < in.data.size(); ++i) in.data[i] = y_[i % y_.size()] * 40.0f;
  const DeviceBuffer<float> d_in = upload(in.data);
  for (int order = 1; order <= 2; ++order) {
    bool too_short = false;
    for (int64_t b = 0; b < c_.batch; ++b) too_short |= valid(b) < cfg_.delta.width;
    if (cfg_.delta.mode == "interp" && too_short) continue;  // the CPU throws, as librosa
    const DeviceBuffer<double> w = upload(tables_->savgol[order - 1]);
    Guarded out(in.data.size());
    delta(cfg_.delta, w.data(), d_in.data(), c_.batch, rows, T_, lengths(), c_.n_samples, cfg_.stft,
          out.data(), nullptr);
    const std::vector<float> gpu = out.read("delta");
    expect_items(
        "delta order " + std::to_string(order), gpu, rows, T_,
        [&](int64_t b) {
          Tensor3 one(1, rows, valid(b)), d;
          one.data = item_frames(in, b, valid(b));
          features::delta(cfg_.delta, order, one, d);
          return d.data;
        },
        kDeltaAtol, kDeltaRtol);
  }
}

TEST_P(Twin, ChromaWithTheCpuTunings) {
  std::vector<Tensor3> items;
  const Tensor3 power = cpu_spec(2.0, &items);
  // the CPU's tunings per item (estimated on the item's own frames), then the same banks
  std::vector<double> tunings;
  std::vector<Tensor3> cpu(static_cast<size_t>(c_.batch));
  for (int64_t b = 0; b < c_.batch; ++b) {
    Tensor3 one = c_.ragged ? items[b] : Tensor3(1, F_, T_);
    if (!c_.ragged) one.data = item_frames(power, b, T_);
    std::vector<double> t;
    features::chroma_stft(cfg_.chroma, cfg_.sr, one, cpu[b], &t);
    tunings.push_back(t[0]);
  }
  // one bank per item, item b using bank b
  std::vector<float> banks;
  std::vector<int> bank_of_item;
  for (const double t : tunings) {
    const auto bank = features::chroma_filter_bank(cfg_.chroma, cfg_.sr, cfg_.stft.n_fft, t);
    banks.insert(banks.end(), bank.begin(), bank.end());
    bank_of_item.push_back(static_cast<int>(bank_of_item.size()));
  }
  const DeviceBuffer<float> d_banks = upload(banks), d_power = upload(power.data);
  const DeviceBuffer<int> d_bank_of_item = upload(bank_of_item);
  Guarded out(static_cast<size_t>(c_.batch * cfg_.chroma.n_chroma * T_));
  chroma_stft(ctx_, cfg_.chroma, d_banks.data(), d_bank_of_item.data(), d_power.data(), c_.batch,
              static_cast<int>(F_), T_, out.data(), nullptr);
  const std::vector<float> gpu = out.read("chroma");
  expect_items(
      "chroma", gpu, cfg_.chroma.n_chroma, T_, [&](int64_t b) { return cpu[b].data; }, kBankAtol,
      kBankRtol);
}

// The tuning of every item equals the CPU's exactly: both run the same float32/float64
// operations per peak (features/tuning.h, no FMA contraction), the same median and the same
// histogram; only log2 comes from two libms, each within an ulp of float64 before the rounding
// to float32, so that a residual could differ only within 1e-16 of a float32 rounding boundary.
TEST_P(Twin, EstimateTuningEqualsCpu) {
  std::vector<Tensor3> items;
  const Tensor3 power = cpu_spec(2.0, &items);
  const DeviceBuffer<float> d_power = upload(power.data);
  DeviceBuffer<double> tuning(static_cast<size_t>(c_.batch), nullptr);
  DeviceBuffer<int> bank(static_cast<size_t>(c_.batch), nullptr);
  estimate_tuning(d_power.data(), c_.batch, static_cast<int>(F_), T_, lengths(), c_.n_samples,
                  cfg_.stft, cfg_.sr, tables_->pip_lo, tables_->pip_hi, cfg_.chroma.n_chroma,
                  tuning.data(), bank.data(), nullptr);
  const std::vector<double> gpu = download(tuning);
  const std::vector<int> gpu_bank = download(bank);
  for (int64_t b = 0; b < c_.batch; ++b) {
    const std::vector<float> own = c_.ragged ? items[b].data : item_frames(power, b, T_);
    const double cpu =
        features::estimate_tuning(own.data(), F_, valid(b), cfg_.sr, cfg_.chroma.n_chroma);
    EXPECT_EQ(gpu[b], cpu) << "item " << b << " seed " << c_.seed;
    const double of_bank =
        gpu_bank[b] < features::tuning::kBins ? features::tuning::edge(gpu_bank[b]) : 0.0;
    EXPECT_EQ(of_bank, gpu[b]) << "item " << b << ": bank " << gpu_bank[b];
  }
}

TEST_P(Twin, SpectralContrast) {
  std::vector<Tensor3> items;
  const Tensor3 mag = cpu_spec(1.0, &items);
  const DeviceBuffer<float> d_mag = upload(mag.data);
  // the case's own bands (in registers), then quantile 0.6: q > Bands::kMaxQ in the top
  // bands of every config, the global-memory selection
  features::FeatureConfig wide = cfg_;
  wide.contrast.quantile = 0.6;
  for (const features::FeatureConfig& cfg : {cfg_, wide}) {
    const auto tables = features::feature_tables(cfg);
    const int rows = cfg.contrast.n_bands + 1;
    Guarded out(static_cast<size_t>(c_.batch * rows * T_));
    spectral_contrast(cfg.contrast, tables->band_first, tables->band_count, tables->band_q,
                      d_mag.data(), c_.batch, static_cast<int>(F_), T_, lengths(), c_.n_samples,
                      cfg.stft, out.data(), nullptr);
    const std::vector<float> gpu = out.read("contrast");
    const std::string what = contrast_in_registers(tables->band_q) ? "contrast" : "contrast wide";
    expect_items(
        what, gpu, rows, T_,
        [&](int64_t b) {
          Tensor3 one = c_.ragged ? items[b] : Tensor3(1, F_, T_), cpu;
          if (!c_.ragged) one.data = item_frames(mag, b, T_);
          features::spectral_contrast(cfg.contrast, cfg.sr, one, cpu);
          return cpu.data;
        },
        kContrastAtol, kContrastRtol);
  }
}

TEST_P(Twin, ZcrAndRms) {
  const auto& z = cfg_.zcr;
  const auto& r = cfg_.rms;
  const int64_t n = c_.n_samples;
  const int64_t Tz = valid(c_.batch - 1, z.frame_length, z.hop_length, z.center);
  const int64_t Tr = valid(c_.batch - 1, r.frame_length, r.hop_length, r.center);
  for (int64_t b = 0; b < c_.batch; ++b) {  // CPU would throw: the GPU twins are not asked
    if (valid(b, z.frame_length, z.hop_length, z.center) == 0) GTEST_SKIP() << "clip too short";
  }
  Guarded zcr_out(static_cast<size_t>(c_.batch * Tz)), rms_out(static_cast<size_t>(c_.batch * Tr));
  zero_crossing_rate(z, d_y_.data(), lengths(), c_.batch, n, zcr_out.data(), nullptr);
  rms(r, d_y_.data(), lengths(), c_.batch, n, rms_out.data(), nullptr);
  const std::vector<float> gz = zcr_out.read("zcr"), gr = rms_out.read("rms");
  expect_items(
      "zcr", gz, 1, Tz,
      [&](int64_t b) {
        const std::vector<float> y = clip(b);
        Tensor3 cpu;
        features::zero_crossing_rate(z, y.data(), 1, static_cast<int64_t>(y.size()), cpu);
        return cpu.data;
      },
      kZcrAtol, kZcrRtol, z.frame_length, z.hop_length, z.center);
  expect_items(
      "rms", gr, 1, Tr,
      [&](int64_t b) {
        const std::vector<float> y = clip(b);
        Tensor3 cpu;
        features::rms(r, y.data(), 1, static_cast<int64_t>(y.size()), cpu);
        return cpu.data;
      },
      kRmsAtol, kRmsRtol, r.frame_length, r.hop_length, r.center);
}

TEST_P(Twin, RowStatsOverValidFrames) {
  const int rows = 7;
  Tensor3 x(c_.batch, rows, T_);
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = y_[(i * 7) % y_.size()] + 3.0f;
  // frames past each clip's end hold a huge value: any leak shows in the mean
  for (int64_t b = 0; b < c_.batch; ++b) {
    for (int r = 0; r < rows; ++r) {
      for (int64_t t = valid(b); t < T_; ++t) x.at(b, r, t) = 1e6f;
    }
  }
  const DeviceBuffer<float> d_x = upload(x.data);
  Guarded out(static_cast<size_t>(c_.batch * 2 * rows));
  row_stats(d_x.data(), c_.batch, rows, T_, lengths(), c_.n_samples, cfg_.stft.n_fft,
            cfg_.stft.hop(), cfg_.stft.center, out.data(), 2 * rows, nullptr);
  const std::vector<float> gpu = out.read("row_stats");
  for (int64_t b = 0; b < c_.batch; ++b) {
    const std::vector<float> own = item_frames(x, b, valid(b));
    std::vector<float> cpu(2 * rows);
    features::row_stats(own.data(), rows, valid(b), cpu.data());
    ASSERT_TRUE(all_close("row_stats item " + std::to_string(b), gpu.data() + b * 2 * rows,
                          cpu.data(), cpu.size(), kStatsAtol, kStatsRtol));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Twin, ::testing::ValuesIn(twin_cases()),
                         [](const auto& info) { return info.param.name; });

// 17 bands (n_bands 16, more than Bands::kMax) need a bin in every octave above fmin = 0.3 Hz:
// a 131072-point FFT at 22050 Hz (0.17 Hz per bin). Runs the global-memory selection.
features::FeatureConfig many_bands() {
  features::FeatureConfig c = features::preset("librosa-default");
  c.stft.n_fft = 131072;
  c.stft.hop_length = 4096;
  c.contrast.fmin = 0.3;
  c.contrast.n_bands = 16;
  c.validate();
  return c;
}

// Which kernel spectral_contrast takes: no GPU needed.
TEST(ContrastDispatch, RegistersUnlessTooManyBandsOrLargeQ) {
  for (const char* name : {"speech", "librosa-default"}) {
    EXPECT_TRUE(contrast_in_registers(features::feature_tables(features::preset(name))->band_q))
        << name;
  }
  features::FeatureConfig wide = features::preset("librosa-default");
  wide.contrast.quantile = 0.6;  // the top band: q = rint(0.6 x ~430 bins)
  EXPECT_FALSE(contrast_in_registers(features::feature_tables(wide)->band_q));
  EXPECT_GT(many_bands().contrast.n_bands + 1, Bands::kMax);  // ContrastManyBands below
  EXPECT_TRUE(contrast_in_registers(std::vector<int>(Bands::kMax, Bands::kMaxQ)));
  EXPECT_FALSE(contrast_in_registers(std::vector<int>(Bands::kMax + 1, 1)));
  EXPECT_FALSE(contrast_in_registers({1, Bands::kMaxQ + 1}));
}

// A clip too long for FrameSource's 32-bit indices, a batch of more frames than its 32-bit rows,
// or a window of another length than n_fft, is refused with its numbers before any device work:
// no GPU needed.
TEST(StftLimits, LongClipsBigBatchesAndWrongWindowsAreRefused) {
  const features::FeatureConfig cfg = features::preset("speech");
  Context ctx;
  const DeviceWindow no_window;
  auto message = [&](int64_t n_samples, int64_t batch = 1) {
    try {
      stft(ctx, cfg.stft, no_window, nullptr, nullptr, batch, n_samples, nullptr, 2.0, nullptr);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const int64_t n = std::numeric_limits<int32_t>::max();
  const std::string too_long = message(n);
  EXPECT_NE(too_long.find(std::to_string(n) + " samples per clip"), std::string::npos) << too_long;
  const int64_t most = n / features::n_frames(cfg, 48000);  // clips of 301 frames in 2^31 - 1
  const std::string too_many = message(48000, most + 1);
  EXPECT_NE(too_many.find(std::to_string(most + 1) + " clips of 301 frames"), std::string::npos)
      << too_many;
  EXPECT_EQ(message(48000, most).find("clips of"), std::string::npos);  // the window's message
  const std::string no_window_values = message(48000);
  EXPECT_NE(no_window_values.find("a window of 0 + 0 values for n_fft 512"), std::string::npos)
      << no_window_values;
}

// Shapes the presets do not reach: more mel bands than a tile of shared memory holds
// (power_to_db, then the cuBLAS DCT), and more coefficients than the fused DCT's 8 warps sum in
// one round of kDctRegs registers (40 = a round of 32, then one of 8).
TEST(MfccFromMel, ShapesBeyondThePresets) {
  HP_REQUIRE_GPU();
  struct Shape {
    int n_mels, n_mfcc;
  };
  for (const Shape shape : {Shape{400, 30}, Shape{64, 40}}) {
    features::FeatureConfig cfg = features::preset("librosa-default");
    cfg.mel.n_mels = shape.n_mels;
    cfg.mfcc.n_mfcc = shape.n_mfcc;
    const auto tables = features::feature_tables(cfg);
    const int64_t batch = 3, T = 45, n_samples = (T - 1) * cfg.stft.hop();
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.0f, 2.0f);
    Tensor3 mel(batch, cfg.mel.n_mels, T), log_mel, cpu;
    for (float& v : mel.data) v = u(rng) * u(rng) * u(rng);
    features::power_to_db(cfg.db, mel, log_mel);
    features::mfcc(cfg.mfcc, log_mel, cpu);
    const DeviceBuffer<float> d_mel = upload(mel.data), dct = upload(tables->dct);
    Context ctx;
    Guarded out(cpu.data.size());
    mfcc_from_mel(ctx, cfg.db, cfg.mfcc, dct.data(), d_mel.data(), batch, cfg.mel.n_mels, T,
                  nullptr, n_samples, cfg.stft, nullptr, out.data(), nullptr);
    const std::string what = "mfcc_from_mel, " + std::to_string(shape.n_mels) + " mel bands, " +
                             std::to_string(shape.n_mfcc) + " coefficients";
    EXPECT_TRUE(all_close(what, out.read(what), cpu.data, kMfccAtol, kMfccRtol));
  }
}

// The own FFT's sizes and framings that the presets do not reach (n_fft 256 and 1024; reflect
// and edge padding; no centring; a window shorter than n_fft; a hop that is no divisor of it;
// ragged items), |X|^2 and stft_mel (the mel summed in the FFT's kernel for n_fft 256 and 1024;
// at 2048 its shared memory leaves no room for that: the mel kernel) with each item's maximum,
// against the CPU's float64 STFT at the float32 FFT's tolerance.
TEST(RadixFft, SizesAndFramingsBeyondThePresets) {
  HP_REQUIRE_GPU();
  struct Shape {
    int n_fft, hop, win;
    const char* pad_mode;
    bool center;
  };
  for (const Shape shape :
       {Shape{256, 64, 200, "reflect", true}, Shape{1024, 300, 1024, "edge", true},
        Shape{2048, 700, 1500, "constant", false}}) {
    features::FeatureConfig cfg = features::preset("speech");
    cfg.stft.n_fft = shape.n_fft;
    cfg.stft.hop_length = shape.hop;
    cfg.stft.win_length = shape.win;
    cfg.stft.pad_mode = shape.pad_mode;
    cfg.stft.center = shape.center;
    cfg.validate();
    const std::string what = "radix n_fft " + std::to_string(shape.n_fft) + " hop " +
                             std::to_string(shape.hop) + " " + shape.pad_mode;
    ASSERT_TRUE(radix_fits(cfg.stft)) << what;
    const auto tables = features::feature_tables(cfg);
    const int64_t batch = 3, n_samples = 37 * shape.hop + 91;
    const std::vector<int64_t> lengths = {n_samples / 2 + 5, n_samples - 17, n_samples};
    std::mt19937 rng(shape.n_fft);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    std::vector<float> y(static_cast<size_t>(batch * n_samples));
    for (float& v : y) v = u(rng);
    const DeviceBuffer<float> d_y = upload(y);
    const DeviceBuffer<int64_t> d_len = upload(lengths);
    const DeviceWindow window(tables->window, nullptr);
    const int64_t T = features::n_frames(cfg, n_samples), F = shape.n_fft / 2 + 1;
    Context ctx(FftFraming::radix);
    Guarded out(static_cast<size_t>(batch * F * T));
    stft(ctx, cfg.stft, window, d_y.data(), d_len.data(), batch, n_samples, out.data(), 2.0,
         nullptr, false);
    const std::vector<float> gpu = out.read(what);
    const int n_mels = cfg.mel.n_mels;
    const DeviceBuffer<float> fb = upload(tables->mel_fb);
    const DeviceBuffer<int> range =
        upload(mel_bin_ranges(tables->mel_fb, n_mels, static_cast<int>(F)));
    ItemMaxima maxima(batch, nullptr);
    Guarded mel_out(static_cast<size_t>(batch * n_mels * T));
    stft_mel(ctx, cfg.stft, window, d_y.data(), d_len.data(), batch, n_samples, fb.data(),
             range.data(), n_mels, mel_out.data(), nullptr, false, &maxima);
    const std::vector<float> gpu_mel = mel_out.read(what + " stft_mel");
    const std::vector<uint32_t> keys = download(maxima.keys);
    for (int64_t b = 0; b < batch; ++b) {
      Tensor3 cpu, cpu_mel;
      features::stft(cfg.stft, y.data() + b * n_samples, 1, lengths[b], cpu, 2.0);
      const float peak = *std::max_element(cpu.data.begin(), cpu.data.end());
      const std::string item = what + " item " + std::to_string(b);
      EXPECT_TRUE(all_close(item, item_frames(gpu, F, T, b, cpu.frames), cpu.data,
                            kFloatFftAtol * peak, kFloatFftRtol));
      features::mel_spectrogram(cfg.mel, cfg.sr, cpu, cpu_mel);
      const float mel_peak = *std::max_element(cpu_mel.data.begin(), cpu_mel.data.end());
      const std::vector<float> own = item_frames(gpu_mel, n_mels, T, b, cpu.frames);
      EXPECT_TRUE(all_close(item + " stft_mel", own, cpu_mel.data, kFloatFftAtol * mel_peak,
                            kFloatFftRtol));
      EXPECT_EQ(keys[b], power_key(*std::max_element(own.begin(), own.end()))) << item;
    }
  }
}

// NaN and negative values (which power_to_db takes as amin) never raise an item's floor: the
// GPU's maxima ignore them as the CPU's maximum of dB values does.
TEST(PowerToDb, NanAndNegativeValuesNeverRaiseTheFloor) {
  HP_REQUIRE_GPU();
  features::FeatureConfig cfg = features::preset("speech");
  cfg.db.top_db = 80.0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // two items of 2 rows x 3 frames: a peak at 0 dB beside a NaN and values below -80 dB (floored
  // at -80 by the CPU; at -180 had the NaN been taken as the maximum), and one all below amin
  Tensor3 x(2, 2, 3);
  x.data = {1.0f, 1e-9f, nan, 2e-9f, -1.0f, 0.0f, -1.0f, -0.0f, 1e-11f, -nan, 0.0f, -3.0f};
  Tensor3 cpu;
  features::power_to_db(cfg.db, x, cpu);
  const DeviceBuffer<float> d_x = upload(x.data);
  Guarded out(x.data.size());
  power_to_db(cfg.db, d_x.data(), x.batch, x.rows, x.frames, nullptr,
              (x.frames - 1) * cfg.stft.hop(), cfg.stft, out.data(), nullptr);
  EXPECT_TRUE(
      all_close("power_to_db with NaN", out.read("power_to_db"), cpu.data, kDbAtol, kDbRtol));
}

TEST(ContrastManyBands, MatchesCpu) {
  HP_REQUIRE_GPU();
  const features::FeatureConfig cfg = many_bands();
  const Case c{"many_bands", cfg, 2, 3 * cfg.stft.hop() + 101, false, 7};
  const std::vector<float> y = random_audio(c);
  Tensor3 mag, cpu;
  features::stft(cfg.stft, y.data(), c.batch, c.n_samples, mag, 1.0);
  features::spectral_contrast(cfg.contrast, cfg.sr, mag, cpu);
  const auto tables = features::feature_tables(cfg);
  const DeviceBuffer<float> d_mag = upload(mag.data);
  Guarded out(cpu.data.size());
  spectral_contrast(cfg.contrast, tables->band_first, tables->band_count, tables->band_q,
                    d_mag.data(), c.batch, static_cast<int>(mag.rows), mag.frames, nullptr,
                    c.n_samples, cfg.stft, out.data(), nullptr);
  ASSERT_TRUE(all_close("contrast, 17 bands", out.read("contrast"), cpu.data, kContrastAtol,
                        kContrastRtol));
}

}  // namespace
}  // namespace hptrain::cuda::test
