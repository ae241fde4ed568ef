// Feature configuration: presets equal to the reference README, validation naming the field,
// TOML reading, and attributes equal to those of librosa's reference files.
#include <gtest/gtest.h>

#include <sstream>

#include <cmath>
#include <string>

#include "hptrain/error.h"
#include "hptrain/features/config_io.h"
#include "hptrain/features/run.h"
#include "hptrain/h5.h"
#include "support/support.h"

namespace hptrain::features {
namespace {

::testing::AssertionResult throws_naming(const std::function<void()>& fn, const std::string& text) {
  try {
    fn();
  } catch (const ConfigError& e) {
    if (std::string(e.what()).find(text) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message '" << e.what() << "' lacks '" << text << "'";
  }
  return ::testing::AssertionFailure() << "no ConfigError";
}

TEST(Config, SpeechPresetIsTheReferenceConfiguration) {
  const FeatureConfig c = preset("speech");
  EXPECT_EQ(c.sr, 16000);
  EXPECT_EQ(c.stft.n_fft, 512);
  EXPECT_EQ(c.stft.win(), 400);
  EXPECT_EQ(c.stft.hop(), 160);
  EXPECT_EQ(c.stft.window, "hann");
  EXPECT_TRUE(c.stft.center);
  EXPECT_EQ(c.stft.pad_mode, "constant");
  EXPECT_EQ(c.mel.n_mels, 64);
  EXPECT_EQ(c.mel.fmin, 0.0);
  EXPECT_EQ(c.mel.fmax_or(c.sr), 8000.0);
  EXPECT_FALSE(c.mel.htk);
  EXPECT_EQ(c.mel.norm, std::optional<std::string>("slaney"));
  EXPECT_EQ(c.db.top_db, std::optional<double>(80.0));
  EXPECT_EQ(c.mfcc.n_mfcc, 20);
  EXPECT_EQ(c.delta.width, 9);
  EXPECT_FALSE(c.chroma.tuning.has_value());  // estimated, as chroma_stft(tuning=None)
  EXPECT_TRUE(std::isinf(*c.chroma.norm));
  EXPECT_EQ(c.zcr.frame_length, 512);
  EXPECT_EQ(c.rms.hop_length, 160);
  const FeatureConfig d = preset("librosa-default");
  EXPECT_EQ(d.sr, 22050);
  EXPECT_EQ(d.stft.win(), 2048);
  EXPECT_EQ(d.stft.hop(), 512);
  EXPECT_EQ(d.mel.fmax_or(d.sr), 11025.0);
  EXPECT_TRUE(throws_naming([] { preset("podcast"); }, "preset = 'podcast'"));
}

TEST(Config, ValidateNamesTheField) {
  auto bad = [](const std::function<void(FeatureConfig&)>& edit, const std::string& field) {
    FeatureConfig c = preset("speech");
    edit(c);
    return throws_naming([&] { c.validate(); }, field);
  };
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.stft.n_fft = -4; }, "stft.n_fft = -4"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.stft.win_length = 1024; }, "stft.win_length"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.stft.window = "kaiser"; }, "stft.window"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.stft.pad_mode = "wrap"; }, "stft.pad_mode"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.mel.fmax = -1.0; }, "mel.fmax"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.mel.norm = "l2"; }, "mel.norm"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.mfcc.n_mfcc = 65; }, "mfcc.n_mfcc"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.mfcc.dct_type = 3; }, "mfcc.dct_type"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.delta.width = 8; }, "delta.width"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.delta.mode = "reflect"; }, "delta.mode"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.contrast.n_bands = 7; }, "contrast.n_bands"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.contrast.quantile = 1.0; }, "contrast.quantile"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.zcr.hop_length = 0; }, "zcr.hop_length"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.rms.pad_mode = "x"; }, "rms.pad_mode"));
  EXPECT_TRUE(bad([](FeatureConfig& c) { c.sr = 0; }, "sr = 0"));
}

FeatureConfig from_text(const std::string& text) {
  const toml::table root = toml::parse(text);
  const config::Section s(&root, "test.toml");
  FeatureConfig c;
  from_toml(s, c);
  s.check_unknown();
  return c;
}

TEST(Config, FromTomlStartsFromThePresetAndReadsFieldNames) {
  const FeatureConfig c = from_text(R"(
preset = "speech"
threads = 1
[stft]
hop_length = 128
[mel]
n_mels = 40
fmax = "none"
htk = true
[db]
top_db = "none"
[chroma]
tuning = 0.0
[contrast]
quantile = 0.05
[zcr]
zero_pos = false
)");
  EXPECT_EQ(c.sr, 16000);
  EXPECT_EQ(c.stft.n_fft, 512);
  EXPECT_EQ(c.stft.hop(), 128);
  EXPECT_EQ(c.mel.n_mels, 40);
  EXPECT_FALSE(c.mel.fmax.has_value());
  EXPECT_TRUE(c.mel.htk);
  EXPECT_FALSE(c.db.top_db.has_value());
  EXPECT_EQ(c.chroma.tuning, std::optional<double>(0.0));
  EXPECT_EQ(c.contrast.quantile, 0.05);
  EXPECT_FALSE(c.zcr.zero_pos);
  EXPECT_EQ(c.threads, 1);
}

TEST(Config, FromTomlErrorsNameFileAndKey) {
  EXPECT_TRUE(throws_naming([] { from_text("[mel]\nn_mels = -1\n"); }, "test.toml: mel.n_mels"));
  EXPECT_TRUE(throws_naming([] { from_text("[mel]\nn_mel = 40\n"); }, "n_mel"));
  EXPECT_TRUE(throws_naming([] { from_text("[mel]\nfmax = \"high\"\n"); }, "fmax"));
  EXPECT_TRUE(throws_naming([] { from_text("preset = \"x\"\n"); }, "preset"));
}

// [features] fft_precision: float64 by default (librosa's FFT), float32 read from the TOML and
// from `features --fft-precision`, anything else an error naming the key; it is part of the
// printed configuration (so of a dataset's fingerprint and of the plan/extractor cache keys).
TEST(Config, FftPrecisionIsReadValidatedAndPrinted) {
  EXPECT_EQ(preset("speech").fft_precision, "float64");
  const FeatureConfig c = from_text("preset = \"speech\"\nfft_precision = \"float32\"\n");
  EXPECT_EQ(c.fft_precision, "float32");
  std::ostringstream a, b;
  a << c;
  b << preset("speech");
  EXPECT_NE(a.str().find("fft_precision = float32"), std::string::npos) << a.str();
  EXPECT_NE(a.str(), b.str());
  EXPECT_TRUE(throws_naming([] { from_text("fft_precision = \"float16\"\n"); }, "fft_precision"));
  FeaturesOptions opts;
  opts.fft_precision = "float32";
  EXPECT_EQ(resolve_config(opts).fft_precision, "float32");
  opts.fft_precision = "half";
  EXPECT_THROW(resolve_config(opts), ConfigError);
}

class ReferenceAttrs : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

// write_attrs gives the reference files' own attribute values (booleans, stored by h5py as
// enums, are compared through the printed form instead).
TEST_P(ReferenceAttrs, WriteAttrsMatchesTheReferenceFile) {
  const auto& [file, name] = GetParam();
  const FeatureConfig cfg = preset(name);
  test::TempDir dir;
  {
    h5::File f = h5::File::create(dir / "attrs.h5");
    write_attrs(f, "/", cfg);
    f.close();
  }
  const h5::File ours = h5::File::open_read(dir / "attrs.h5");
  const h5::File ref = h5::File::open_read(test::data_path("reference/" + file));
  const char* numbers[] = {"sr",
                           "n_fft",
                           "win_length",
                           "hop_length",
                           "n_mels",
                           "fmin",
                           "fmax",
                           "power",
                           "db_ref",
                           "db_amin",
                           "db_top_db",
                           "n_mfcc",
                           "dct_type",
                           "lifter",
                           "delta_width",
                           "n_chroma",
                           "chroma_norm",
                           "chroma_ctroct",
                           "chroma_octwidth",
                           "chroma_fb_norm",
                           "contrast_fmin",
                           "contrast_n_bands",
                           "contrast_quantile",
                           "zcr_frame_length",
                           "zcr_hop_length",
                           "zcr_threshold",
                           "rms_frame_length",
                           "rms_hop_length"};
  for (const char* a : numbers) {
    EXPECT_EQ(ours.attr_double("/", a), ref.attr_double("/", a)) << a;
  }
  for (const char* a : {"window", "pad_mode", "mel_norm", "mfcc_norm", "delta_mode", "zcr_pad_mode",
                        "rms_pad_mode"}) {
    EXPECT_EQ(ours.attr_string("/", a), ref.attr_string("/", a)) << a;
  }
  for (const char* a : {"center", "htk", "chroma_base_c", "contrast_linear", "zcr_center",
                        "zcr_zero_pos", "rms_center"}) {
    EXPECT_TRUE(ours.has_attr("/", a)) << a;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Librosa, ReferenceAttrs,
    ::testing::Values(std::make_pair("speech_hedgewars_16k.speech.h5", "speech"),
                      std::make_pair("music_wesnoth_22k.librosa-default.h5", "librosa-default")));

}  // namespace
}  // namespace hptrain::features
