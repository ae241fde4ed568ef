// Feature options that the presets leave at their defaults, against librosa 0.11.0's own outputs
// (tests/data/feature_options.h5, written by scripts/gen_feature_options.py): HTK mel scale and
// mel norm None, MFCC lifter and norm None, every delta mode, chroma norms 2 and None, linear
// spectral contrast, reflect and edge padding of the STFT and RMS. Each variant is the "speech"
// preset with the options its group names; tolerances are the parity ones (feature_checks.h).
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "feature_checks.h"
#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"
#include "support/support.h"

namespace hptrain::features {
namespace {

struct Variant {
  std::string name;
  std::function<void(FeatureConfig&)> apply;
};
std::ostream& operator<<(std::ostream& os, const Variant& v) {
  return os << v.name;
}

// The same options as VARIANTS in scripts/gen_feature_options.py.
std::vector<Variant> variants() {
  return {
      {"htk_mel_norm_none",
       [](FeatureConfig& c) {
         c.mel.htk = true;
         c.mel.norm.reset();
       }},
      {"mfcc_lifter_22", [](FeatureConfig& c) { c.mfcc.lifter = 22.0; }},
      {"mfcc_norm_none", [](FeatureConfig& c) { c.mfcc.norm.reset(); }},
      {"delta_nearest", [](FeatureConfig& c) { c.delta.mode = "nearest"; }},
      {"delta_mirror", [](FeatureConfig& c) { c.delta.mode = "mirror"; }},
      {"delta_constant", [](FeatureConfig& c) { c.delta.mode = "constant"; }},
      {"delta_wrap", [](FeatureConfig& c) { c.delta.mode = "wrap"; }},
      {"chroma_norm_2",
       [](FeatureConfig& c) {
         c.chroma.norm = 2.0;
         c.chroma.tuning = 0.0;
       }},
      {"chroma_norm_none",
       [](FeatureConfig& c) {
         c.chroma.norm.reset();
         c.chroma.tuning = 0.0;
       }},
      {"contrast_linear", [](FeatureConfig& c) { c.contrast.linear = true; }},
      {"pad_reflect",
       [](FeatureConfig& c) {
         c.stft.pad_mode = "reflect";
         c.rms.pad_mode = "reflect";
       }},
      {"pad_edge",
       [](FeatureConfig& c) {
         c.stft.pad_mode = "edge";
         c.rms.pad_mode = "edge";
       }},
  };
}

struct Output {
  const char* dataset;
  const Tensor3 FeatureSet::*member;
  double tol;
  test::Scale scale;
};
const Output kOutputs[] = {
    {"stft_mag", &FeatureSet::stft_mag, test::kStftRel, test::Scale::kFrameMax},
    {"melspectrogram", &FeatureSet::melspectrogram, test::kMelRel, test::Scale::kFrameMax},
    {"log_mel", &FeatureSet::log_mel, test::kLogMelDb, test::Scale::kAbsolute},
    {"mfcc", &FeatureSet::mfcc, test::kMfccRel, test::Scale::kRowMax},
    {"mfcc_delta", &FeatureSet::mfcc_delta, test::kDeltaRel, test::Scale::kRowMax},
    {"mfcc_delta2", &FeatureSet::mfcc_delta2, test::kDeltaRel, test::Scale::kRowMax},
    // of the frame's largest value: 1 under norm inf, at most 1 under norm 2, and the raw
    // filtered energy under norm None (where an absolute bound would mean nothing)
    {"chroma_stft", &FeatureSet::chroma_stft, test::kChromaAbs, test::Scale::kFrameMax},
    {"spectral_contrast", &FeatureSet::spectral_contrast, test::kContrastDb,
     test::Scale::kAbsolute},
    {"rms", &FeatureSet::rms, test::kRmsAbs, test::Scale::kAbsolute},
};

class Option : public ::testing::TestWithParam<Variant> {};

TEST_P(Option, MatchesLibrosa) {
  const test::H5File h5(test::data_path("feature_options.h5"));
  const std::vector<float> y = h5.floats("y");
  FeatureConfig cfg = preset("speech");
  GetParam().apply(cfg);
  cfg.validate();
  const FeatureSet fs = extract(cfg, y.data(), 1, static_cast<int64_t>(y.size()));
  int compared = 0;
  for (const Output& o : kOutputs) {
    const std::string dataset = GetParam().name + "/" + o.dataset;
    if (!h5.has(dataset)) continue;
    std::vector<int64_t> shape;
    const std::vector<float> want = h5.floats(dataset, &shape);
    const Tensor3& got = fs.*o.member;
    ASSERT_EQ(shape.size(), 2u) << dataset;
    ASSERT_EQ(got.rows, shape[0]) << dataset;
    ASSERT_EQ(got.frames, shape[1]) << dataset;
    EXPECT_TRUE(test::close_scaled(dataset, got.data.data(), want.data(), shape[0], shape[1], o.tol,
                                   o.scale));
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no dataset for " << GetParam().name;
}

// Each option changes what it claims to: the variant's librosa output differs from the preset's
// by far more than the tolerance (else the test above could not tell the option was ignored).
TEST_P(Option, TheOptionMattersOnThisClip) {
  const test::H5File h5(test::data_path("feature_options.h5"));
  const std::vector<float> y = h5.floats("y");
  const FeatureSet plain = extract(preset("speech"), y.data(), 1, static_cast<int64_t>(y.size()));
  for (const Output& o : kOutputs) {
    const std::string dataset = GetParam().name + "/" + o.dataset;
    if (!h5.has(dataset)) continue;
    const std::vector<float> want = h5.floats(dataset);
    const Tensor3& base = plain.*o.member;
    ASSERT_EQ(base.data.size(), want.size()) << dataset;
    double largest = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      largest = std::max(largest, static_cast<double>(std::fabs(base.data[i] - want[i])));
    }
    EXPECT_GT(largest, 1e-3) << dataset << ": the preset already gives librosa's output";
  }
}

INSTANTIATE_TEST_SUITE_P(Librosa, Option, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return info.param.name; });

TEST(OptionFile, NamesItsLibrosaVersion) {
  const test::H5File h5(test::data_path("feature_options.h5"));
  EXPECT_EQ(h5.attr_string("librosa_version"), "0.11.0");
}

}  // namespace
}  // namespace hptrain::features
