// A run's diarization settings file (diarization_io.h): keys read, unknown keys and ranges refused.
#include "hptrain/diarization/diarization_io.h"

#include <gtest/gtest.h>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::diarization {
namespace {

TEST(DiarizeSettings, ARunsFileSetsThresholdStandardisationWhiteningMethodAndFusion) {
  test::TempDir dir;
  fs::write_text(dir / "diarization.toml",
                 "threshold = 0.42\nstandardise = false\nclustering = \"spectral\"\n"
                 "mfcc_weight = 0.5\nwhiten = true\nwhiten_weight = 0.6\n");
  DiarizeConfig cfg;
  read_diarize_settings(dir / "diarization.toml", cfg);
  EXPECT_DOUBLE_EQ(cfg.clustering.threshold, 0.42);
  EXPECT_FALSE(cfg.recording.standardise);
  EXPECT_EQ(cfg.clustering.method, "spectral");
  EXPECT_DOUBLE_EQ(cfg.mfcc_weight, 0.5);
  EXPECT_TRUE(cfg.whiten);
  EXPECT_DOUBLE_EQ(cfg.recording.whiten_weight, 0.6);
  fs::write_text(dir / "bad.toml", "threshold = 0.4\nthreshhold = 0.5\n");
  EXPECT_THROW(read_diarize_settings(dir / "bad.toml", cfg), ConfigError);
  fs::write_text(dir / "range.toml", "threshold = 3.0\n");
  EXPECT_THROW(read_diarize_settings(dir / "range.toml", cfg), ConfigError);
  fs::write_text(dir / "weight.toml", "mfcc_weight = 1.0\n");
  EXPECT_THROW(read_diarize_settings(dir / "weight.toml", cfg), ConfigError);
  fs::write_text(dir / "whiten.toml", "whiten_weight = 0.0\n");
  EXPECT_THROW(read_diarize_settings(dir / "whiten.toml", cfg), ConfigError);
}

}  // namespace
}  // namespace hptrain::diarization
