// The spectral GPU twins (cuda/src/spectral.cu) against the CPU's (features/cpu.h): mel,
// power_to_db, MFCC, deltas, chroma. Skips without a GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

TEST_P(Twin, MelSpectrogram) {
  const Tensor3 spec = cpu_spec(cfg_.mel.power == 2.0 ? 2.0 : 1.0);
  const DeviceBuffer<float> d_spec = upload(spec.data), fb = upload(tables_->mel_fb);
  Guarded out(static_cast<size_t>(c_.batch * cfg_.mel.n_mels * T_));
  mel_spectrogram(ctx_, cfg_.mel, fb.data(), frames(d_spec.data(), F_), out.data(), nullptr);
  Tensor3 cpu;
  features::mel_spectrogram(cfg_.mel, cfg_.sr, spec, cpu);
  ASSERT_TRUE(all_close("mel", out.read("mel"), cpu.data, kBankAtol, kBankRtol));
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
  stft_mel(callbacks_ctx_, cfg_.stft, window, clips(), fb.data(), range.data(), n_mels, mel.data(),
           nullptr, false, &maxima);
  std::vector<float> db[2], mfcc_out[2], log_mel[2];
  for (const bool given : {false, true}) {
    const ItemMaxima* m = given ? &maxima : nullptr;
    Guarded d(size * n_mels), lm(size * n_mels), out(size * n_mfcc);
    power_to_db(cfg_.db, frames(mel.data(), n_mels), d.data(), nullptr, m);
    mfcc_from_mel(ctx_, cfg_.db, cfg_.mfcc, dct.data(), frames(mel.data(), n_mels), lm.data(),
                  out.data(), nullptr, m);
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
  power_to_db(cfg_.db, frames(d_mel.data(), cfg_.mel.n_mels), out.data(), nullptr);
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
  mfcc(ctx_, cfg_.mfcc, dct.data(), frames(d_in.data(), cfg_.mel.n_mels), out.data(), nullptr);
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
    mfcc_from_mel(ctx_, cfg_.db, cfg_.mfcc, dct.data(), frames(d_mel.data(), n_mels),
                  keep_log_mel ? lm.data() : nullptr, out.data(), nullptr);
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
    DeviceTables weights;
    weights.savgol[order - 1] = upload(tables_->savgol[order - 1]);
    Guarded out(in.data.size());
    delta({cfg_.delta, order}, weights, frames(d_in.data(), rows), out.data(), nullptr);
    const std::vector<float> gpu = out.read("delta");
    expect_items(
        "delta order " + std::to_string(order), gpu, rows, T_,
        [&](int64_t b) {
          Tensor3 one(1, rows, valid(b)), d;
          one.data = item_frames(in, b, valid(b));
          features::delta({cfg_.delta, order}, one, d);
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
  chroma_stft(ctx_, cfg_.chroma, d_banks.data(), d_bank_of_item.data(), frames(d_power.data(), F_),
              out.data(), nullptr);
  const std::vector<float> gpu = out.read("chroma");
  expect_items(
      "chroma", gpu, cfg_.chroma.n_chroma, T_, [&](int64_t b) { return cpu[b].data; }, kBankAtol,
      kBankRtol);
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
    const features::FrameBatch in{
        d_mel.data(), batch, cfg.mel.n_mels, T,
        ValidFrames{nullptr, n_samples, features::stft_framing(cfg.stft)}};
    mfcc_from_mel(ctx, cfg.db, cfg.mfcc, dct.data(), in, nullptr, out.data(), nullptr);
    const std::string what = "mfcc_from_mel, " + std::to_string(shape.n_mels) + " mel bands, " +
                             std::to_string(shape.n_mfcc) + " coefficients";
    EXPECT_TRUE(all_close(what, out.read(what), cpu.data, kMfccAtol, kMfccRtol));
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
  const int64_t n_samples = (x.frames - 1) * cfg.stft.hop();
  const features::FrameBatch in{d_x.data(), x.batch, static_cast<int>(x.rows), x.frames,
                                ValidFrames{nullptr, n_samples, features::stft_framing(cfg.stft)}};
  power_to_db(cfg.db, in, out.data(), nullptr);
  EXPECT_TRUE(
      all_close("power_to_db with NaN", out.read("power_to_db"), cpu.data, kDbAtol, kDbRtol));
}

}  // namespace
}  // namespace hptrain::cuda::test
