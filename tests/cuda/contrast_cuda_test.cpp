// The GPU's spectral contrast (cuda/src/contrast.cu) against the CPU's, in registers and with
// global-memory selection (more bands than Bands::kMax). Skips the device tests without a GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

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
    spectral_contrast(cfg.contrast, tables->bands, frames(d_mag.data(), F_), out.data(), nullptr);
    const std::vector<float> gpu = out.read("contrast");
    const std::string what = contrast_in_registers(tables->bands.q) ? "contrast" : "contrast wide";
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
    EXPECT_TRUE(contrast_in_registers(features::feature_tables(features::preset(name))->bands.q))
        << name;
  }
  features::FeatureConfig wide = features::preset("librosa-default");
  wide.contrast.quantile = 0.6;  // the top band: q = rint(0.6 x ~430 bins)
  EXPECT_FALSE(contrast_in_registers(features::feature_tables(wide)->bands.q));
  EXPECT_GT(many_bands().contrast.n_bands + 1, Bands::kMax);  // ContrastManyBands below
  EXPECT_TRUE(contrast_in_registers(std::vector<int>(Bands::kMax, Bands::kMaxQ)));
  EXPECT_FALSE(contrast_in_registers(std::vector<int>(Bands::kMax + 1, 1)));
  EXPECT_FALSE(contrast_in_registers({1, Bands::kMaxQ + 1}));
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
  const features::FrameBatch in{
      d_mag.data(), c.batch, static_cast<int>(mag.rows), mag.frames,
      ValidFrames{nullptr, c.n_samples, features::stft_framing(cfg.stft)}};
  spectral_contrast(cfg.contrast, tables->bands, in, out.data(), nullptr);
  ASSERT_TRUE(all_close("contrast, 17 bands", out.read("contrast"), cpu.data, kContrastAtol,
                        kContrastRtol));
}

}  // namespace
}  // namespace hptrain::cuda::test
