// The STFT's GPU twins (cuda/src/stft.cu, stft_radix.cu) against the CPU's
// (hptrain/features/stft.h): |STFT| by every framing, the fused STFT + mel, the own FFT's limits
// and shapes. Skips the device tests without a GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

// |STFT|^p with a float64 FFT (librosa's) and a float32 one, by every framing.
TEST_P(Twin, Stft) {
  const DeviceWindow window(tables_->window, nullptr);
  for (const Framed& framed : framings()) {
    for (const bool f64 : {true, false}) {
      if (f64 && !framed.float64) continue;
      for (const double power : {1.0, 2.0, 1.5}) {
        Guarded out(static_cast<size_t>(c_.batch * F_ * T_));
        stft(*framed.ctx, cfg_.stft, window, clips(), out.data(), power, nullptr, f64);
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
      stft(radix_ctx_, cfg_.stft, window, clips(), out.data(), 2.0, nullptr, f64);
      FAIL() << "radix took n_fft " << cfg_.stft.n_fft << (f64 ? " float64" : " float32");
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("n_fft = " + std::to_string(cfg_.stft.n_fft)),
                std::string::npos)
          << e.what();
    }
  }
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
      stft_mel(*framed.ctx, cfg_.stft, window, clips(), fb.data(), range.data(), cfg_.mel.n_mels,
               out.data(), nullptr, f64, &maxima);
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

// A clip too long for FrameSource's 32-bit indices, a batch of more frames than its 32-bit rows,
// or a window of another length than n_fft, is refused with its numbers before any device work:
// no GPU needed.
TEST(StftLimits, LongClipsBigBatchesAndWrongWindowsAreRefused) {
  const features::FeatureConfig cfg = features::preset("speech");
  Context ctx;
  const DeviceWindow no_window;
  auto message = [&](int64_t n_samples, int64_t batch = 1) {
    try {
      stft(ctx, cfg.stft, no_window, features::Signal{nullptr, nullptr, batch, n_samples}, nullptr,
           2.0, nullptr);
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
    const features::Signal clips{d_y.data(), d_len.data(), batch, n_samples};
    stft(ctx, cfg.stft, window, clips, out.data(), 2.0, nullptr, false);
    const std::vector<float> gpu = out.read(what);
    const int n_mels = cfg.mel.n_mels;
    const DeviceBuffer<float> fb = upload(tables->mel_fb);
    const DeviceBuffer<int> range =
        upload(mel_bin_ranges(tables->mel_fb, n_mels, static_cast<int>(F)));
    ItemMaxima maxima(batch, nullptr);
    Guarded mel_out(static_cast<size_t>(batch * n_mels * T));
    stft_mel(ctx, cfg.stft, window, clips, fb.data(), range.data(), n_mels, mel_out.data(), nullptr,
             false, &maxima);
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

// The cases of every TEST_P(Twin, ...) of tests/cuda.
INSTANTIATE_TEST_SUITE_P(Cases, Twin, ::testing::ValuesIn(twin_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace hptrain::cuda::test
