// Every feature against librosa 0.11's own outputs (tests/data/reference, README.md there):
// one body per check, TEST_P over the four reference files.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "feature_checks.h"
#include "hptrain/error.h"
#include "hptrain/features/config.h"
#include "hptrain/features/cpu.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/filters.h"
#include "hptrain/h5.h"
#include "support/support.h"

namespace hptrain::features {
namespace {

using namespace hptrain::test;  // NOLINT: tolerances and close_scaled

struct RefFile {
  std::string name;    // base name in tests/data/reference
  std::string preset;  // configuration the file was made with
};
std::ostream& operator<<(std::ostream& os, const RefFile& f) {
  return os << f.name;
}

class Reference : public ::testing::TestWithParam<RefFile> {
 protected:
  void SetUp() override {
    file_ = std::make_unique<test::H5File>(
        test::data_path("reference/" + GetParam().name + "." + GetParam().preset + ".h5"));
    cfg_ = preset(GetParam().preset);
    y_ = file_->floats("y");
  }
  std::vector<float> ref(const std::string& name, std::vector<int64_t>* shape = nullptr) const {
    return file_->floats(name, shape);
  }
  bool long_enough() const { return n_frames(cfg_, n()) >= cfg_.delta.width; }
  int64_t n() const { return static_cast<int64_t>(y_.size()); }

  std::unique_ptr<test::H5File> file_;
  FeatureConfig cfg_;
  std::vector<float> y_;
};

void expect_shape(const Tensor3& t, const std::vector<int64_t>& shape, const std::string& what) {
  ASSERT_EQ(shape.size(), 2u) << what;
  EXPECT_EQ(t.batch, 1) << what;
  EXPECT_EQ(t.rows, shape[0]) << what;
  EXPECT_EQ(t.frames, shape[1]) << what;
}

TEST_P(Reference, EveryFeatureMatchesLibrosa) {
  FeatureSelection what;
  what.deltas = what.stats = long_enough();
  const FeatureSet fs = extract(cfg_, y_.data(), 1, n(), what);
  ASSERT_EQ(n_frames(cfg_, n()), file_->attr_double("n_frames"));

  struct Check {
    const char* dataset;
    const Tensor3* got;
    double tol;
    Scale scale;
  };
  std::vector<Check> checks = {
      {"stft_mag", &fs.stft_mag, kStftRel, Scale::kFrameMax},
      {"melspectrogram", &fs.melspectrogram, kMelRel, Scale::kFrameMax},
      {"log_mel", &fs.log_mel, kLogMelDb, Scale::kAbsolute},
      {"mfcc", &fs.mfcc, kMfccRel, Scale::kRowMax},
      {"chroma_stft", &fs.chroma_stft, kChromaAbs, Scale::kAbsolute},
      {"spectral_contrast", &fs.spectral_contrast, kContrastDb, Scale::kAbsolute},
      {"zcr", &fs.zcr, 0.0, Scale::kAbsolute},
      {"rms", &fs.rms, kRmsAbs, Scale::kAbsolute},
  };
  if (long_enough()) {
    checks.push_back({"mfcc_delta", &fs.mfcc_delta, kDeltaRel, Scale::kRowMax});
    checks.push_back({"mfcc_delta2", &fs.mfcc_delta2, kDeltaRel, Scale::kRowMax});
  }
  for (const Check& c : checks) {
    std::vector<int64_t> shape;
    const std::vector<float> want = ref(c.dataset, &shape);
    expect_shape(*c.got, shape, c.dataset);
    if (c.got->size() != static_cast<int64_t>(want.size())) continue;
    EXPECT_TRUE(close_scaled(GetParam().name + " " + c.dataset, c.got->data.data(), want.data(),
                             shape[0], shape[1], c.tol, c.scale));
  }
  ASSERT_EQ(fs.tuning.size(), 1u);
  EXPECT_NEAR(fs.tuning[0], file_->attr_double("tuning_chroma_stft"), kTuning);
}

TEST_P(Reference, ChromaWithGivenTuning) {
  cfg_.chroma.tuning = 0.0;
  FeatureSelection what{};
  what = {false, false, false, false, false, true, false, false, false, false};
  const FeatureSet fs = extract(cfg_, y_.data(), 1, n(), what);
  std::vector<int64_t> shape;
  const std::vector<float> want = ref("chroma_stft_tuning0", &shape);
  expect_shape(fs.chroma_stft, shape, "chroma_stft_tuning0");
  EXPECT_TRUE(close_scaled(GetParam().name + " chroma_stft_tuning0", fs.chroma_stft.data.data(),
                           want.data(), shape[0], shape[1], kChromaAbs, Scale::kAbsolute));
  EXPECT_EQ(fs.tuning[0], 0.0);
}

TEST_P(Reference, FilterBanksMatchLibrosa) {
  std::vector<int64_t> shape;
  const std::vector<float> mel_ref = ref("mel_fb", &shape);
  const std::vector<float> mel = mel_filter_bank(cfg_.mel, cfg_.sr, cfg_.stft.n_fft);
  ASSERT_EQ(mel.size(), mel_ref.size());
  EXPECT_TRUE(close_scaled("mel_fb", mel.data(), mel_ref.data(), shape[0], shape[1], kFilterBankRel,
                           Scale::kItemMax));
  const double tuning = file_->attr_double("tuning_chroma_stft");
  for (const auto& [dataset, t] : {std::pair<std::string, double>{"chroma_fb", tuning},
                                   std::pair<std::string, double>{"chroma_fb_tuning0", 0.0}}) {
    const std::vector<float> want = ref(dataset, &shape);
    const std::vector<float> got = chroma_filter_bank(cfg_.chroma, cfg_.sr, cfg_.stft.n_fft, t);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(close_scaled(dataset, got.data(), want.data(), shape[0], shape[1], kFilterBankRel,
                             Scale::kItemMax));
  }
}

// The per-feature functions of cpu.h, fed librosa's own intermediate arrays, give librosa's
// outputs too (each stage checked on its own, not only through extract()).
TEST_P(Reference, PerFeatureFunctionsFromReferenceInputs) {
  std::vector<int64_t> shape;
  const std::vector<float> mag = ref("stft_mag", &shape);
  Tensor3 S(1, shape[0], shape[1]);
  S.data = mag;
  Tensor3 P = S;
  for (float& v : P.data) v = v * v;
  Tensor3 mel, log_mel, mf, contrast, chroma;
  mel_spectrogram(cfg_.mel, cfg_.sr, P, mel);
  EXPECT_TRUE(close_scaled("melspectrogram(S=stft_mag**2)", mel.data.data(),
                           ref("melspectrogram").data(), mel.rows, mel.frames, kMelRel,
                           Scale::kFrameMax));
  Tensor3 ref_mel(1, mel.rows, mel.frames);
  ref_mel.data = ref("melspectrogram");
  power_to_db(cfg_.db, ref_mel, log_mel);
  EXPECT_TRUE(close_scaled("power_to_db(melspectrogram)", log_mel.data.data(),
                           ref("log_mel").data(), log_mel.rows, log_mel.frames, kLogMelDb,
                           Scale::kAbsolute));
  Tensor3 ref_log(1, mel.rows, mel.frames);
  ref_log.data = ref("log_mel");
  mfcc(cfg_.mfcc, ref_log, mf);
  EXPECT_TRUE(close_scaled("mfcc(S=log_mel)", mf.data.data(), ref("mfcc").data(), mf.rows,
                           mf.frames, kMfccRel, Scale::kRowMax));
  if (long_enough()) {
    Tensor3 ref_mfcc(1, mf.rows, mf.frames), d;
    ref_mfcc.data = ref("mfcc");
    delta({cfg_.delta, 1}, ref_mfcc, d);
    EXPECT_TRUE(close_scaled("delta(mfcc)", d.data.data(), ref("mfcc_delta").data(), d.rows,
                             d.frames, kDeltaRel, Scale::kRowMax));
    delta({cfg_.delta, 2}, ref_mfcc, d);
    EXPECT_TRUE(close_scaled("delta(mfcc, order=2)", d.data.data(), ref("mfcc_delta2").data(),
                             d.rows, d.frames, kDeltaRel, Scale::kRowMax));
  } else {
    Tensor3 d;
    EXPECT_THROW(delta({cfg_.delta, 1}, mf, d), InputError);
    EXPECT_FALSE(file_->has("mfcc_delta"));
    const std::string why = file_->attr_string("delta_error");
    EXPECT_NE(why.find("width=9 cannot exceed"), std::string::npos) << why;
  }
  std::vector<double> tuning;
  chroma_stft(cfg_.chroma, cfg_.sr, P, chroma, &tuning);
  EXPECT_TRUE(close_scaled("chroma_stft(S=stft_mag**2)", chroma.data.data(),
                           ref("chroma_stft").data(), chroma.rows, chroma.frames, kChromaAbs,
                           Scale::kAbsolute));
  EXPECT_NEAR(tuning.at(0), file_->attr_double("tuning_chroma_stft"), kTuning);
  spectral_contrast(cfg_.contrast, cfg_.sr, S, contrast);
  EXPECT_TRUE(close_scaled("spectral_contrast(S=stft_mag)", contrast.data.data(),
                           ref("spectral_contrast").data(), contrast.rows, contrast.frames,
                           kContrastDb, Scale::kAbsolute));
}

TEST_P(Reference, ShortClipsWithoutEnoughFramesForDeltasThrow) {
  if (long_enough()) {
    EXPECT_NO_THROW(extract(cfg_, y_.data(), 1, n()));
    return;
  }
  EXPECT_THROW(extract(cfg_, y_.data(), 1, n()), InputError);
  FeatureSelection no_stats;
  no_stats.stats = false;
  EXPECT_THROW(extract(cfg_, y_.data(), 1, n(), no_stats), InputError);
}

INSTANTIATE_TEST_SUITE_P(Librosa, Reference,
                         ::testing::Values(RefFile{"speech_hedgewars_16k", "speech"},
                                           RefFile{"music_wesnoth_16k", "speech"},
                                           RefFile{"short_wesnoth_16k", "speech"},
                                           RefFile{"music_wesnoth_22k", "librosa-default"}),
                         [](const ::testing::TestParamInfo<RefFile>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hptrain::features
