// Manifest rows at the edges of what is accepted: an empty path is a bad row named by its line,
// and an end time may pass the file's duration by at most 0.05 s (annotators round to 0.1 s).
#include <gtest/gtest.h>

#include <cmath>

#include "hptrain/data/manifest.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

constexpr int kSr = 16000;

DatasetConfig config(const test::TempDir& dir, const std::string& csv) {
  std::vector<float> x(2 * kSr);  // b.wav: exactly 2.000 s
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * std::sin(0.05f * static_cast<float>(i));
  io::write_wav(dir / "b.wav", x.data(), x.size(), kSr);
  DatasetConfig cfg;
  cfg.file = dir / "dataset.toml";
  cfg.audio_root = dir.path();
  cfg.manifest = dir / "manifest.csv";
  cfg.tasks = {{"speaker", {"alice", "bob"}, ""}};
  fs::write_text(cfg.manifest, csv);
  return cfg;
}

TEST(ManifestRows, EmptyPathAndTheEndAllowance) {
  test::TempDir dir;
  const auto cfg = config(dir,
                          "path,start,end,speaker\n"  // 1
                          ",0,1,alice\n"              // 2 empty path
                          "  ,0,1,bob\n"              // 3 blank path
                          "b.wav,0,2.04,alice\n"      // 4 kept: 0.04 s past the end
                          "b.wav,0.5,2.06,bob\n"      // 5 0.06 s past the end
                          "b.wav,1,2.05,bob\n"        // 6 kept: a 0.05 s allowance includes it
                          "b.wav,2,2.03,alice\n");    // 7 starts at the end
  const Manifest m = read_manifest(cfg);
  ASSERT_EQ(m.segments.size(), 2u) << describe(m.bad, m.where);
  EXPECT_EQ(m.segments[0].line, 4);
  EXPECT_EQ(m.segments[1].line, 6);
  ASSERT_TRUE(m.segments[0].end.has_value());
  EXPECT_NEAR(*m.segments[0].end, 2.04, 1e-12);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {2, "empty path"}, {3, "empty path"}, {5, "end 2.06"}, {7, "start 2"}};
  ASSERT_EQ(m.bad.size(), expected.size()) << describe(m.bad, m.where);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(m.bad[i].line, expected[i].first) << describe(m.bad, m.where);
    EXPECT_NE(m.bad[i].reason.find(expected[i].second), std::string::npos)
        << "line " << m.bad[i].line << ": " << m.bad[i].reason;
  }
  EXPECT_NE(m.bad[2].reason.find("beyond the file (2"), std::string::npos) << m.bad[2].reason;
}

}  // namespace
}  // namespace hptrain::data
