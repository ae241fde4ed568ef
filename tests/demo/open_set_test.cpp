// The demo's open-set set (build_demo_open_set) on a voice folder made here: six packs of 20
// one-second tone lines (plus a line too short and one shared with a training pack), so every
// clip and count can be worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "hptrain/data/manifest.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;
constexpr int kSr = 16000;

// A tone of whole-hertz frequency: its first and last samples are near the peak, so trimming
// (at -40 dB of the peak) keeps every sample.
void write_tone(const stdfs::path& path, int hz, double seconds) {
  std::vector<float> x(static_cast<size_t>(seconds * kSr));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(0.5 * std::cos(2 * M_PI * hz * static_cast<double>(i) / kSr));
  io::write_wav(path, x.data(), x.size(), kSr);
}

std::vector<std::vector<std::string>> rows(const stdfs::path& csv) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : parse_csv(fs::read_text(csv), csv.string())) out.push_back(r.fields);
  return out;
}

TEST(DemoOpenSet, EnrolmentAndTestLinesApartUnknownVoicesNamedSo) {
  test::TempDir dir;
  DemoConfig cfg;
  cfg.voices = dir / "voices";
  std::vector<std::string> packs = demo_open_set_cast();
  for (const auto& p : demo_open_set_unknown()) packs.push_back(p);
  for (size_t p = 0; p < packs.size(); ++p) {
    stdfs::create_directories(cfg.voices / packs[p]);
    for (int i = 0; i < 20; ++i) {
      write_tone(cfg.voices / packs[p] / ("line" + std::to_string(i) + ".wav"),
                 200 + 100 * static_cast<int>(p) + i, 1.0);
    }
    write_tone(cfg.voices / packs[p] / "short.wav", 150, 0.2);  // < 0.3 s: left out
  }
  // a recording also in a training pack: left out
  stdfs::create_directories(cfg.voices / "Default");
  write_tone(cfg.voices / "Default" / "same.wav", 3000, 1.0);
  stdfs::copy_file(cfg.voices / "Default" / "same.wav", cfg.voices / "British" / "same.wav");

  const auto out = dir / "open-set";
  const OpenSet set = build_demo_open_set(cfg, out);
  // enrolled pack: 20 lines of 1 s; a clip grows 1 + 0.2 + 1 = 2.2 s, then 3.4 s >= 3: four
  // enrolment clips of three lines (12 lines), the other 8 as test clips of two (2.2 s >= 2)
  // -> 4 x 4 enrolment and 4 x 4 test clips; unknown packs: 10 test clips each
  ASSERT_EQ(set.enrol.size(), 16u);
  ASSERT_EQ(set.test.size(), 16u + 20u);
  std::map<std::string, std::set<std::string>> enrol_lines, test_lines;
  for (const auto& c : set.enrol) {
    EXPECT_EQ(c.lines.size(), 3u) << c.path;
    EXPECT_NEAR(c.duration, 3.4, 1e-9) << c.path;
    for (const auto& l : c.lines) enrol_lines[c.voice].insert(l);
  }
  for (const auto& c : set.test) {
    EXPECT_EQ(c.lines.size(), 2u) << c.path;
    EXPECT_NEAR(c.duration, 2.2, 1e-9) << c.path;
    for (const auto& l : c.lines) test_lines[c.voice].insert(l);
  }
  for (const auto& p : packs) {
    const bool enrolled = p != "Russian" && p != "Surfer";
    EXPECT_EQ(enrol_lines[p].size(), enrolled ? 12u : 0u) << p;
    EXPECT_EQ(enrol_lines[p].size() + test_lines[p].size(), 20u) << p;  // each line once
    for (const auto& l : enrol_lines[p]) EXPECT_EQ(test_lines[p].count(l), 0u) << l;
    for (const auto& l : test_lines[p]) {
      EXPECT_EQ(stdfs::path(l).filename().string().rfind("line", 0), 0u) << l;  // not short/same
    }
  }
  // the manifests: the cast as enroll reads it, the test lines labelled (unknown voices `unknown`)
  const auto cast = rows(out / "cast.csv");
  ASSERT_EQ(cast.size(), 17u);
  EXPECT_EQ(cast[0], (std::vector<std::string>{"path", "start", "end", "character"}));
  EXPECT_EQ(cast[1],
            (std::vector<std::string>{"enrol/British-00.wav", "0.000", "3.400", "British"}));
  const auto test = rows(out / "test.csv");
  ASSERT_EQ(test.size(), 37u);
  EXPECT_EQ(test[0], (std::vector<std::string>{"path", "start", "end", "character", "voice"}));
  std::map<std::string, int> named;
  for (size_t i = 1; i < test.size(); ++i) {
    ++named[test[i][3]];
    EXPECT_EQ(test[i][3],
              test[i][4] == "Russian" || test[i][4] == "Surfer" ? "unknown" : test[i][4]);
    EXPECT_EQ(io::load_mono((out / test[i][0]).string(), kSr).size(), size_t{35200});  // 2.2 s
  }
  EXPECT_EQ(named["unknown"], 20);
  EXPECT_EQ(named["Pirate"], 4);
  // present for these settings only; the same seed builds the same set
  EXPECT_TRUE(demo_open_set_present(cfg, out));
  DemoConfig other = cfg;
  other.seed = cfg.seed + 1;
  EXPECT_FALSE(demo_open_set_present(other, out));
  const std::string first = fs::read_text(out / "test.csv");
  build_demo_open_set(cfg, out);
  EXPECT_EQ(fs::read_text(out / "test.csv"), first);
  // a pack missing: an error naming it
  stdfs::remove_all(cfg.voices / "Surfer");
  EXPECT_THROW(build_demo_open_set(cfg, dir / "again"), InputError);
}

}  // namespace
}  // namespace hptrain::data
