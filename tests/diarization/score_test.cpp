// DER and JER on cases computed by hand (collars, overlap, unmatched speakers, empty
// hypothesis, uris on one side), the assignment against brute force, RTTM errors naming the
// file and line, and DER against pyannote.metrics (tests/data/diarization_pyannote.json, written
// by scripts/gen_diarization_fixtures.py).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "hptrain/diarization/assignment.h"
#include "hptrain/diarization/rttm.h"
#include "hptrain/diarization/score.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::diarization {
namespace {

constexpr double kTol = 1e-9;  // sums of a few durations given in decimal

std::vector<Turn> turns(const std::vector<std::tuple<double, double, std::string>>& v) {
  std::vector<Turn> out;
  for (const auto& [a, b, s] : v) out.push_back({"f", a, b - a, s});
  return out;
}

ScoreConfig collar(double c, bool skip = false) {
  ScoreConfig cfg;
  cfg.collar = c;
  cfg.skip_overlap = skip;
  return cfg;
}

TEST(DiarizationScore, PerfectWithOtherLabelsIsZero) {
  const auto ref = turns({{0, 4, "A"}, {4, 9, "B"}, {9, 12, "A"}});
  const auto hyp = turns({{0, 4, "spk2"}, {4, 9, "spk1"}, {9, 12, "spk2"}});
  const FileScore f = score_file("f", ref, hyp, collar(0));
  EXPECT_NEAR(f.der.total, 12, kTol);
  EXPECT_NEAR(f.der.errors(), 0, kTol);
  EXPECT_NEAR(f.jer, 0, kTol);
  EXPECT_EQ(f.mapping.at("A"), "spk2");
  EXPECT_EQ(f.mapping.at("B"), "spk1");
}

TEST(DiarizationScore, LateBoundaryWithAndWithoutCollar) {
  const auto ref = turns({{0, 10, "A"}, {10, 20, "B"}});
  const auto hyp = turns({{0, 12, "X"}, {12, 20, "Y"}});
  const FileScore f0 = score_file("f", ref, hyp, collar(0));
  EXPECT_NEAR(f0.der.total, 20, kTol);
  EXPECT_NEAR(f0.der.confusion, 2, kTol);
  EXPECT_NEAR(*f0.der.der_percent(), 10.0, kTol);
  // zones [-.25,.25] [9.75,10.25] [19.75,20.25]: 19 s scored, [10.25, 12) confused
  const FileScore f1 = score_file("f", ref, hyp, collar(0.25));
  EXPECT_NEAR(f1.der.total, 19, kTol);
  EXPECT_NEAR(f1.der.confusion, 1.75, kTol);
  EXPECT_NEAR(f1.der.missed + f1.der.false_alarm, 0, kTol);
  // JER ignores the collar: A~X 1 - 10/12, B~Y 1 - 8/10
  EXPECT_NEAR(f1.jer, 100.0 * (1.0 / 6 + 0.2) / 2, 1e-9);
}

TEST(DiarizationScore, CollarDropsHypothesisToo) {
  // ref [1,3), hyp [0,4), collar 0.5: scored [0,.5) FA, [1.5,2.5) correct, [3.5,4) FA
  const FileScore f = score_file("f", turns({{1, 3, "A"}}), turns({{0, 4, "X"}}), collar(0.5));
  EXPECT_NEAR(f.der.total, 1, kTol);
  EXPECT_NEAR(f.der.false_alarm, 1, kTol);
  EXPECT_NEAR(f.der.missed + f.der.confusion, 0, kTol);
}

TEST(DiarizationScore, OverlapCountsEachSpeakerAndSkipOverlapDropsIt) {
  const auto ref = turns({{0, 10, "A"}, {5, 15, "B"}});
  const auto hyp = turns({{0, 15, "X"}});
  const FileScore f = score_file("f", ref, hyp, collar(0));
  EXPECT_NEAR(f.der.total, 20, kTol);
  EXPECT_NEAR(f.der.missed, 5, kTol);     // [5,10): two reference speakers, one hypothesis
  EXPECT_NEAR(f.der.confusion, 5, kTol);  // X maps to one of them
  EXPECT_NEAR(*f.der.der_percent(), 50, kTol);
  const FileScore s = score_file("f", ref, hyp, collar(0, true));
  EXPECT_NEAR(s.der.total, 10, kTol);
  EXPECT_NEAR(s.der.missed, 0, kTol);
  EXPECT_NEAR(s.der.confusion, 5, kTol);
}

TEST(DiarizationScore, UnmatchedSpeakersAreConfusion) {
  // more hypothesis speakers than reference ones
  const FileScore a =
      score_file("f", turns({{0, 10, "A"}}), turns({{0, 5, "X"}, {5, 10, "Y"}}), collar(0));
  EXPECT_NEAR(a.der.confusion, 5, kTol);
  EXPECT_NEAR(a.jer, 50, 1e-9);
  // more reference speakers: X maps to A (longest overlap), B and C confused
  const FileScore b = score_file("f", turns({{0, 4, "A"}, {4, 8, "B"}, {8, 10, "C"}}),
                                 turns({{0, 10, "X"}}), collar(0));
  EXPECT_NEAR(b.der.confusion, 6, kTol);
  EXPECT_EQ(b.mapping.size(), 1u);
  EXPECT_EQ(b.mapping.at("A"), "X");
  // JER: A 1 - 4/10, B and C unpaired (1)
  EXPECT_NEAR(b.jer, 100.0 * (0.6 + 1 + 1) / 3, 1e-9);
}

TEST(DiarizationScore, FalseAlarmAndEmptyHypothesis) {
  const FileScore fa =
      score_file("f", turns({{0, 5, "A"}}), turns({{0, 5, "X"}, {6, 8, "Y"}}), collar(0));
  EXPECT_NEAR(fa.der.false_alarm, 2, kTol);
  EXPECT_NEAR(*fa.der.der_percent(), 40, kTol);
  const FileScore empty = score_file("f", turns({{0, 10, "A"}, {12, 13, "B"}}), {}, collar(0.25));
  EXPECT_NEAR(empty.der.missed, empty.der.total, kTol);
  EXPECT_NEAR(*empty.der.der_percent(), 100, kTol);
  EXPECT_NEAR(empty.jer, 100, kTol);
  const FileScore none = score_file("f", {}, turns({{0, 1, "X"}}), collar(0));
  EXPECT_FALSE(none.der.der_percent().has_value());
  EXPECT_NEAR(none.der.false_alarm, 1, kTol);
  EXPECT_NEAR(none.jer, 100, kTol);
}

TEST(DiarizationScore, SameSpeakerTurnsMergeBeforeScoring) {
  // overlapping turns of one speaker are one stretch of speech, not two speakers' worth
  const FileScore f =
      score_file("f", turns({{0, 6, "A"}, {4, 10, "A"}}), turns({{0, 10, "X"}}), collar(0));
  EXPECT_NEAR(f.der.total, 10, kTol);
  EXPECT_NEAR(f.der.errors(), 0, kTol);
}

TEST(DiarizationScore, UrisOnOneSideAreScoredAndListed) {
  std::map<std::string, std::vector<Turn>> ref, hyp;
  ref["a"] = turns({{0, 10, "A"}});
  ref["b"] = turns({{0, 4, "B"}});
  hyp["a"] = turns({{0, 10, "X"}});
  hyp["c"] = turns({{0, 3, "Y"}});
  const ScoreReport r = score(ref, hyp, collar(0));
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.ref_only, std::vector<std::string>{"b"});
  EXPECT_EQ(r.hyp_only, std::vector<std::string>{"c"});
  EXPECT_NEAR(r.overall.total, 14, kTol);
  EXPECT_NEAR(r.overall.missed, 4, kTol);
  EXPECT_NEAR(r.overall.false_alarm, 3, kTol);
  EXPECT_NEAR(*r.overall.der_percent(), 50, kTol);
  // JER over every reference speaker: A 0, B 100
  EXPECT_NEAR(r.overall_jer, 50, kTol);
  const std::string table = format_table(r);
  EXPECT_NE(table.find("OVERALL   50.00"), std::string::npos) << table;
  EXPECT_NE(table.find("\nc "), std::string::npos) << table;
}

TEST(DiarizationAssignment, MatchesBruteForce) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-3, 7);
  for (int rows = 1; rows <= 6; ++rows) {
    for (int cols = 1; cols <= 6; ++cols) {
      std::vector<double> c(static_cast<size_t>(rows * cols));
      for (auto& v : c) v = std::round(u(rng) * 2) / 2;  // ties
      const auto pairs = linear_sum_assignment(c, rows, cols);
      ASSERT_EQ(pairs.size(), static_cast<size_t>(std::min(rows, cols)));
      double got = 0;
      for (const auto& [r, k] : pairs) got += c[static_cast<size_t>(r * cols + k)];
      // brute force over injections of the smaller side into the larger
      const int n = std::min(rows, cols), m = std::max(rows, cols);
      std::vector<int> perm(m);
      std::iota(perm.begin(), perm.end(), 0);
      double best = 1e300;
      do {
        double s = 0;
        for (int i = 0; i < n; ++i) {
          s += rows <= cols ? c[static_cast<size_t>(i * cols + perm[i])]
                            : c[static_cast<size_t>(perm[i] * cols + i)];
        }
        best = std::min(best, s);
      } while (std::next_permutation(perm.begin(), perm.end()));
      EXPECT_NEAR(got, best, 1e-9) << rows << "x" << cols;
    }
  }
}

TEST(DiarizationRttm, ErrorsNameFileAndLine) {
  test::TempDir dir;
  const auto p = dir / "bad.rttm";
  fs::write_text(p,
                 "SPEAKER a 1 0.000 1.000 <NA> <NA> s1 <NA> <NA>\n\nSPEAKER a 1 x 1 <NA> <NA> "
                 "s1 <NA> <NA>\n");
  try {
    read_rttm(p);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string() + ":3: onset 'x'"), std::string::npos)
        << e.what();
  }
  fs::write_text(p, "SPEAKER a 1 0.5 1.0 <NA> <NA>\n");
  try {
    read_rttm(p);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":1: 7 fields"), std::string::npos) << e.what();
  }
  fs::write_text(p, "SPEAKER a 1 0.5 -1.0 <NA> <NA> s <NA> <NA>\n");
  EXPECT_THROW(read_rttm(p), InputError);
  // a turn ending past 1e9 s (sums of such times overflowed to inf and gave a NaN DER)
  fs::write_text(p,
                 "SPEAKER a 1 0 1 <NA> <NA> s <NA> <NA>\nSPEAKER a 1 1.7e308 1e308 <NA> <NA> s "
                 "<NA> <NA>\n");
  const auto late = test::message_of<InputError>([&] { read_rttm(p); });
  EXPECT_TRUE(test::contains(late, p.string() + ":2: the turn ends at 1.7e308 + 1e308 s")) << late;
  fs::write_text(p, "SPEAKER a 1 999999999 1.5 <NA> <NA> s <NA> <NA>\n");
  EXPECT_THROW(read_rttm(p), InputError);
  // a time too small for a double is 0, not an error
  fs::write_text(p, "SPEAKER a 1 1e-400 1 <NA> <NA> s <NA> <NA>\n");
  EXPECT_EQ(read_rttm(p).at(0).onset, 0.0);
}

TEST(DiarizationRttm, RoundTripAndFolders) {
  test::TempDir dir;
  std::vector<Turn> t = {{"film", 1.23449, 2.0, "spk_1"}, {"film", 4.0, 0.5, "spk_2"}};
  write_rttm(dir / "film.rttm", t);
  EXPECT_EQ(fs::read_text(dir / "film.rttm"),
            "SPEAKER film 1 1.234 2.000 <NA> <NA> spk_1 <NA> <NA>\n"
            "SPEAKER film 1 4.000 0.500 <NA> <NA> spk_2 <NA> <NA>\n");
  // any time keeps its digits and the line its fields (a 64-byte buffer once cut both)
  const auto line = format_rttm({{"film", 1e60, 12345678.5, "spk_1"}});
  EXPECT_EQ(line, "SPEAKER film 1 " + fmt::format("{:.3f}", 1e60) +
                      " 12345678.500 <NA> <NA> spk_1 <NA> <NA>\n");
  EXPECT_GT(line.size(), 64u);
  write_rttm(dir / "quiet.rttm", {});
  const auto by_uri = read_rttm_inputs(dir.path());
  ASSERT_EQ(by_uri.size(), 2u);
  EXPECT_EQ(by_uri.at("film").size(), 2u);
  EXPECT_TRUE(by_uri.at("quiet").empty());
}

// DER parts against pyannote.metrics' DiarizationErrorRate (its collar is the zone's whole
// width: 2x md-eval's), on seeded random turn sets; tolerance: pyannote sums the same
// durations in another order.
TEST(DiarizationScore, MatchesPyannoteMetrics) {
  const auto path = test::data_path("diarization_pyannote.json");
  const auto cases = nlohmann::json::parse(fs::read_text(path)).at("cases");
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto read = [](const nlohmann::json& j) {
      std::vector<Turn> v;
      for (const auto& t : j) {
        v.push_back({"f", t[0].get<double>(), t[1].get<double>() - t[0].get<double>(),
                     t[2].get<std::string>()});
      }
      return v;
    };
    const FileScore f =
        score_file("f", read(c["ref"]), read(c["hyp"]), collar(c["collar"], c["skip_overlap"]));
    const std::string what = c["name"].get<std::string>();
    EXPECT_NEAR(f.der.total, c["total"].get<double>(), 1e-6) << what;
    EXPECT_NEAR(f.der.missed, c["missed"].get<double>(), 1e-6) << what;
    EXPECT_NEAR(f.der.false_alarm, c["false_alarm"].get<double>(), 1e-6) << what;
    EXPECT_NEAR(f.der.confusion, c["confusion"].get<double>(), 1e-6) << what;
  }
}

}  // namespace
}  // namespace hptrain::diarization
