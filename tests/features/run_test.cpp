// run_features / write_features_h5: the HDF5 file of a whole clip, compared with librosa's
// reference file of the same samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
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

// A file longer than one window, streamed in windows of 64 frames, gives the datasets and
// stats that features::extract gives on the whole file, bit for bit: music, speech, digital
// silence (log_mel and contrast then hit their top_db floors, set by the file's maximum) and
// noise. The speech preset fixes chroma's tuning; librosa-default estimates it over the file.
TEST(RunFeatures, StreamedWindowsEqualTheWholeFileBitForBit) {
  TempDir dir;
  std::vector<float> y = H5File(data_path("reference/music_wesnoth_16k.speech.h5")).floats("y");
  const std::vector<float> speech =
      H5File(data_path("reference/speech_hedgewars_16k.speech.h5")).floats("y");
  y.insert(y.end(), speech.begin(), speech.end());
  y.insert(y.end(), 20011, 0.0f);  // silence, and a length that is no multiple of any hop
  uint32_t state = 12345;
  for (int i = 0; i < 30000; ++i) {
    state = state * 1664525u + 1013904223u;
    y.push_back(0.01f * (static_cast<float>(state >> 8) / 16777216.0f - 0.5f));
  }
  const AudioLoader load = [&](const std::string&, int, bool) { return y; };
  for (const char* name : {"speech", "librosa-default"}) {
    FeaturesOptions opts;
    opts.preset = name;
    opts.input = "mix.wav";
    opts.out = dir / (std::string(name) + ".h5");
    opts.window_frames = 64;
    const FeaturesSummary sum = run_features(opts, load);
    const FeatureConfig cfg = resolve_config(opts);
    ASSERT_GT(sum.n_frames, 3 * opts.window_frames) << name;
    const FeatureSet fs = extract(cfg, y.data(), 1, static_cast<int64_t>(y.size()));
    EXPECT_EQ(sum.tuning, fs.tuning.at(0)) << name;
    const h5::File out = h5::File::open_read(opts.out);
    const std::pair<const char*, const Tensor3*> datasets[] = {
        {"stft_mag", &fs.stft_mag},
        {"melspectrogram", &fs.melspectrogram},
        {"log_mel", &fs.log_mel},
        {"mfcc", &fs.mfcc},
        {"mfcc_delta", &fs.mfcc_delta},
        {"mfcc_delta2", &fs.mfcc_delta2},
        {"chroma_stft", &fs.chroma_stft},
        {"spectral_contrast", &fs.spectral_contrast},
        {"zcr", &fs.zcr},
        {"rms", &fs.rms},
        {"stats", &fs.stats}};
    for (const auto& [ds, t] : datasets) {
      std::vector<int64_t> shape;
      const std::vector<float> got = out.read_floats(ds, &shape);
      ASSERT_EQ(got.size(), t->data.size()) << name << " " << ds;
      size_t differ = 0, first = 0;
      for (size_t i = got.size(); i-- > 0;) {
        if (std::memcmp(&got[i], &t->data[i], sizeof(float)) != 0) {
          ++differ;
          first = i;
        }
      }
      EXPECT_EQ(differ, 0u) << name << " " << ds << ": first at " << first << ": " << got[first]
                            << " vs " << t->data[first];
    }
    // the floors did bite: the silence sits at log_mel's max - top_db
    float lo = 0, hi = -1e30f;
    for (float v : fs.log_mel.data) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_FLOAT_EQ(lo, hi - 80.0f) << name;
  }
}

}  // namespace
}  // namespace hptrain::features
