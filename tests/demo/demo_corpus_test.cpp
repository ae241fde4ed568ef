// The demo corpus builder on a tiny size: labels agree with what was mixed in, sources stay in
// their split, the WAVs and the manifest match the plan, and the build is deterministic.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "hptrain/data/manifest.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

// Overlapping turns: the incoming speaker takes the floor up to 0.4 s before the other ends.
constexpr double kMaxOverlap_s = 0.4 + 1e-9;
constexpr double kEps = 1e-9;

bool sources_installed() {
  const DemoConfig d;
  return stdfs::is_directory(d.voices / "Default") && stdfs::is_directory(d.wesnoth / "music");
}

double overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

class DemoCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!sources_installed()) return;
    dir_ = new test::TempDir();
    cfg_.minutes = 1.5;
    corpus_ = new DemoCorpus(build_demo_corpus(cfg_, SplitPolicy{}, dir_->path() / "audio",
                                               dir_->path() / "audio" / "manifest.csv"));
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete dir_;
    corpus_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (corpus_ == nullptr) GTEST_SKIP() << "hedgewars-data / wesnoth data not installed";
  }
  static DemoConfig cfg_;
  static test::TempDir* dir_;
  static DemoCorpus* corpus_;
};
DemoConfig DemoCorpusTest::cfg_;
test::TempDir* DemoCorpusTest::dir_ = nullptr;
DemoCorpus* DemoCorpusTest::corpus_ = nullptr;

TEST_F(DemoCorpusTest, EverySplitHasScenesAndTheRequestedDuration) {
  std::map<std::string, double> seconds;
  for (const auto& s : corpus_->scenes) seconds[s.split] += s.duration;
  EXPECT_NEAR(seconds["train"] + seconds["validation"] + seconds["test"], cfg_.minutes * 60,
              6 * 3 + 1);
  for (const auto& split : split_names()) EXPECT_GT(seconds[split], 6.0) << split;
}

TEST_F(DemoCorpusTest, SegmentsPartitionEachScene) {
  for (const auto& s : corpus_->scenes) {
    ASSERT_FALSE(s.segments.empty()) << s.name;
    EXPECT_EQ(s.segments.front().start, 0.0) << s.name;
    EXPECT_NEAR(s.segments.back().end, s.duration, kEps) << s.name;
    for (size_t i = 0; i < s.segments.size(); ++i) {
      EXPECT_LT(s.segments[i].start, s.segments[i].end) << s.name;
      if (i > 0) {
        EXPECT_EQ(s.segments[i].start, s.segments[i - 1].end) << s.name;
      }
    }
  }
}

TEST_F(DemoCorpusTest, MusicIsYesExactlyWhereATrackWasMixedIn) {
  int with_music = 0;
  for (const auto& s : corpus_->scenes) {
    std::vector<std::pair<double, double>> music;
    for (const auto& e : s.events) {
      if (e.kind == "music") music.emplace_back(e.start, e.start + e.duration);
    }
    ASSERT_LE(music.size(), 1u) << s.name;
    with_music += !music.empty();
    for (const auto& seg : s.segments) {
      const double covered =
          music.empty() ? 0 : overlap(seg.start, seg.end, music[0].first, music[0].second);
      if (seg.music == "yes") {
        EXPECT_NEAR(covered, seg.end - seg.start, kEps) << s.name << " at " << seg.start;
      } else {
        EXPECT_EQ(seg.music, "no");
        EXPECT_NEAR(covered, 0.0, kEps) << s.name << " at " << seg.start;
      }
    }
  }
  EXPECT_GT(with_music, 0);
}

TEST_F(DemoCorpusTest, CharacterIsNoneWhereNobodySpeaksAndTheSpeakerElsewhere) {
  for (const auto& s : corpus_->scenes) {
    for (const auto& seg : s.segments) {
      double own = 0;
      for (const auto& e : s.events) {
        if (e.kind != "voice") continue;
        const double o = overlap(seg.start, seg.end, e.start, e.start + e.duration);
        if (seg.character == "none") {
          EXPECT_NEAR(o, 0.0, kEps)
              << s.name << ": " << e.character << " speaks in a 'none' segment at " << seg.start;
        } else if (e.character == seg.character) {
          own += o;
        } else {
          EXPECT_LE(o, kMaxOverlap_s)
              << s.name << ": " << e.character << " inside " << seg.character << "'s turn";
        }
      }
      if (seg.character != "none") {
        EXPECT_GT(own, 0.0) << s.name << " at " << seg.start;
      }
    }
  }
}

TEST_F(DemoCorpusTest, NoVoiceLineOrMusicTrackInTwoSplits) {
  const auto& src = corpus_->sources;
  for (const auto& a : split_names()) {
    for (const auto& b : split_names()) {
      if (a >= b || !src.count(a) || !src.count(b)) continue;
      for (const auto& f : src.at(a))
        EXPECT_EQ(src.at(b).count(f), 0u) << f << " in " << a << " and " << b;
    }
  }
  for (const auto& s : corpus_->scenes) {
    for (const auto& e : s.events) {
      if (e.kind == "voice" || e.kind == "music") {
        EXPECT_EQ(src.at(s.split).count(e.source), 1u) << e.source;
      }
    }
  }
}

TEST_F(DemoCorpusTest, WavsAndManifestMatchThePlan) {
  const auto root = dir_->path() / "audio";
  size_t rows = 0;
  for (const auto& s : corpus_->scenes) {
    const auto x = io::load_mono((root / s.path).string(), cfg_.sr);
    EXPECT_EQ(static_cast<double>(x.size()), std::round(s.duration * cfg_.sr)) << s.path;
    float peak = 0;
    for (float v : x) peak = std::max(peak, std::abs(v));
    EXPECT_GT(peak, 0.01f) << s.path;
    EXPECT_LE(peak, 0.96f) << s.path;
    rows += s.segments.size();
  }
  DatasetConfig cfg;
  cfg.audio_root = root;
  cfg.manifest = root / "manifest.csv";
  cfg.tasks = {{"character", {}, ""},
               {"music", {"no", "yes"}, ""},
               {"scene", {"dialog", "action", "emotional"}, ""}};
  const Manifest m = read_manifest(cfg);
  EXPECT_TRUE(m.bad.empty()) << describe(m.bad, m.where);
  EXPECT_EQ(m.segments.size(), rows);
  for (const auto& seg : m.segments) EXPECT_FALSE(seg.split.empty());
}

TEST_F(DemoCorpusTest, SameSeedSameManifest) {
  test::TempDir other;
  build_demo_corpus(cfg_, SplitPolicy{}, other.path(), other.path() / "manifest.csv");
  EXPECT_EQ(fs::read_text(other.path() / "manifest.csv"),
            fs::read_text(dir_->path() / "audio" / "manifest.csv"));
  const auto& s = corpus_->scenes.front();
  EXPECT_EQ(io::load_mono((other.path() / s.path).string(), cfg_.sr),
            io::load_mono((dir_->path() / "audio" / s.path).string(), cfg_.sr));
}

// prepare builds the corpus again unless the manifest was written with the same settings (its
// first line) and every scene is there: a corpus of another size or seed is not reused.
TEST_F(DemoCorpusTest, PresentOnlyWithTheSameSettingsAndEveryScene) {
  const auto audio = dir_->path() / "audio";
  const auto manifest = audio / "manifest.csv";
  EXPECT_TRUE(demo_corpus_present(cfg_, SplitPolicy{}, audio, manifest));
  DemoConfig longer = cfg_;
  longer.minutes = 3;
  EXPECT_FALSE(demo_corpus_present(longer, SplitPolicy{}, audio, manifest));
  DemoConfig reseeded = cfg_;
  reseeded.seed = cfg_.seed + 1;
  EXPECT_FALSE(demo_corpus_present(reseeded, SplitPolicy{}, audio, manifest));
  SplitPolicy split;
  split.seed += 1;
  EXPECT_FALSE(demo_corpus_present(cfg_, split, audio, manifest));
  // a manifest without the stamp (an older build), and one whose scenes are missing
  test::TempDir other;
  const std::string text = fs::read_text(manifest);
  fs::write_text(other.path() / "unstamped.csv", text.substr(text.find('\n') + 1));
  EXPECT_FALSE(demo_corpus_present(cfg_, SplitPolicy{}, audio, other.path() / "unstamped.csv"));
  EXPECT_FALSE(demo_corpus_present(cfg_, SplitPolicy{}, other.path(), manifest));
}

}  // namespace
}  // namespace hptrain::data
