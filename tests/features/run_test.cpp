// run_features / write_features_h5: the HDF5 file of a whole clip, compared with librosa's
// reference file of the same samples.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feature_checks.h"
#include "hptrain/error.h"
#include "hptrain/features/run.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "support/support.h"

namespace hptrain::features {
namespace {

using namespace hptrain::test;  // NOLINT: tolerances and close_scaled

// The reference file's `y` (the WAV's samples) stands in for decoding.
AudioLoader reference_loader(const std::filesystem::path& h5, int* asked_sr, bool* asked_pre) {
  return [h5, asked_sr, asked_pre](const std::string&, int sr, bool pre) {
    *asked_sr = sr;
    *asked_pre = pre;
    return H5File(h5).floats("y");
  };
}

TEST(RunFeatures, OutputMatchesTheReferenceFile) {
  TempDir dir;
  const auto ref_path = data_path("reference/music_wesnoth_16k.speech.h5");
  FeaturesOptions opts;
  opts.input = data_path("reference/music_wesnoth_16k.wav");
  opts.out = dir / "out.h5";
  int sr = 0;
  bool pre = true;
  const FeaturesSummary sum = run_features(opts, reference_loader(ref_path, &sr, &pre));
  EXPECT_EQ(sr, 16000);
  EXPECT_FALSE(pre);
  EXPECT_EQ(sum.n_frames, 301);
  const h5::File out = h5::File::open_read(opts.out);
  const H5File ref(ref_path);
  const struct {
    const char* name;
    double tol;
    Scale scale;
  } checks[] = {{"stft_mag", kStftRel, Scale::kFrameMax},
                {"melspectrogram", kMelRel, Scale::kFrameMax},
                {"log_mel", kLogMelDb, Scale::kAbsolute},
                {"mfcc", kMfccRel, Scale::kRowMax},
                {"mfcc_delta", kDeltaRel, Scale::kRowMax},
                {"mfcc_delta2", kDeltaRel, Scale::kRowMax},
                {"chroma_stft", kChromaAbs, Scale::kAbsolute},
                {"spectral_contrast", kContrastDb, Scale::kAbsolute},
                {"zcr", 0.0, Scale::kAbsolute},
                {"rms", kRmsAbs, Scale::kAbsolute}};
  for (const auto& c : checks) {
    std::vector<int64_t> shape, ref_shape;
    const std::vector<float> got = out.read_floats(c.name, &shape);
    const std::vector<float> want = ref.floats(c.name, &ref_shape);
    ASSERT_EQ(shape, ref_shape) << c.name;
    EXPECT_TRUE(close_scaled(std::string("h5 ") + c.name, got.data(), want.data(), shape[0],
                             shape[1], c.tol, c.scale));
  }
  std::vector<int64_t> stats_shape;
  out.read_floats("stats", &stats_shape);
  const std::vector<std::string> cols = out.attr_strings("stats", "columns");
  EXPECT_EQ(stats_shape, std::vector<int64_t>{static_cast<int64_t>(cols.size())});
  EXPECT_EQ(cols, stats_columns(preset("speech")));
  EXPECT_EQ(out.attr_int("/", "n_fft"), 512);
  EXPECT_EQ(out.attr_string("/", "mel_norm"), "slaney");
  EXPECT_NEAR(out.attr_double("/", "tuning_chroma_stft"), ref.attr_double("tuning_chroma_stft"),
              kTuning);
}

TEST(RunFeatures, ShortFileGetsNoDeltasAndSaysWhy) {
  TempDir dir;
  FeaturesOptions opts;
  opts.input = data_path("reference/short_wesnoth_16k.wav");
  opts.out = dir / "short.h5";
  int sr = 0;
  bool pre = false;
  const FeaturesSummary sum = run_features(
      opts, reference_loader(data_path("reference/short_wesnoth_16k.speech.h5"), &sr, &pre));
  EXPECT_FALSE(sum.deltas);
  const h5::File out = h5::File::open_read(opts.out);
  EXPECT_TRUE(out.has("mfcc"));
  EXPECT_FALSE(out.has("mfcc_delta"));
  EXPECT_FALSE(out.has("stats"));
  EXPECT_NE(out.attr_string("/", "delta_error").find("width=9 cannot exceed"), std::string::npos);
  EXPECT_EQ(out.shape("chroma_stft"), (std::vector<int64_t>{12, 3}));
}

TEST(RunFeatures, TomlConfigAppliesOnThePreset) {
  TempDir dir;
  hptrain::fs::write_text(
      dir / "f.toml", "[features]\npreset = \"librosa-default\"\n[features.mel]\nn_mels = 40\n");
  FeaturesOptions opts;
  opts.config = dir / "f.toml";
  const FeatureConfig c = resolve_config(opts);
  EXPECT_EQ(c.sr, 22050);
  EXPECT_EQ(c.mel.n_mels, 40);
  hptrain::fs::write_text(dir / "bad.toml", "[features.mel]\nn_mels = 0\n");
  opts.config = dir / "bad.toml";
  EXPECT_THROW(resolve_config(opts), ConfigError);
}

TEST(RunFeatures, FailedWriteLeavesNoFile) {
  TempDir dir;
  FeaturesOptions opts;
  opts.out = dir / "never.h5";
  EXPECT_THROW(run_features(opts,
                            [](const std::string&, int, bool) -> std::vector<float> {
                              throw InputError("cannot decode 'x': no audio stream");
                            }),
               InputError);
  EXPECT_FALSE(std::filesystem::exists(opts.out));
}

}  // namespace
}  // namespace hptrain::features
