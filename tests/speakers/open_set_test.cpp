// Open-set scoring (speakers/open_set.h) on hand-made embeddings whose answers are worked out
// below, and `evaluate-cast` end to end on the tone corpus: a cast of `low` only, `high` lines
// to be named unknown.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/speakers/open_set.h"
#include "speakers/speaker_runs.h"
#include "support/support.h"

namespace hptrain::speakers {
namespace {

OpenSetLine line(const std::string& expected, const std::string& voice) {
  OpenSetLine l;
  l.expected = expected;
  l.voice = voice;
  return l;
}

TEST(OpenSet, ScoresWorkedByHand) {
  Cast c;
  c.dim = 2;
  c.characters = {"ann", "bob"};
  c.centroids = {1, 0, 0, 1};
  c.threshold = 0.5;
  // line: embedding; cosine to ann, bob; named (threshold 0.5); expected
  // 0: (0.8, 0.6); 0.8, 0.6; ann; ann         right
  // 1: (0.6, 0.8); 0.6, 0.8; bob; bob         right
  // 2: (0.28, 0.96); 0.28, 0.96; bob; ann     wrong (nearest bob: closed-set wrong too)
  // 3: (0.6, -0.8); 0.6, -0.8; ann; unknown   wrong (a stranger above the threshold)
  // 4: (-1, 0); -1, 0; unknown; unknown       right
  // 5: (0.832, 0.555); 0.832, 0.555; ann; ann right (no voice: in no pair)
  const std::vector<float> e = {0.8f, 0.6f,  0.6f, 0.8f, 0.28f,      0.96f,
                                0.6f, -0.8f, -1.f, 0.f,  0.8320503f, 0.5547002f};
  const auto r = score_open_set(c, e,
                                {line("ann", "A"), line("bob", "B"), line("ann", "A"),
                                 line("unknown", "X"), line("unknown", "Y"), line("ann", "")});
  ASSERT_EQ(r.lines.size(), 6u);
  EXPECT_EQ(r.lines[0].named, "ann");
  EXPECT_EQ(r.lines[2].named, "bob");
  EXPECT_EQ(r.lines[2].nearest, "bob");
  EXPECT_EQ(r.lines[3].named, "ann");
  EXPECT_EQ(r.lines[4].named, "unknown");
  EXPECT_EQ(r.lines[4].nearest, "bob");  // cosines -1 and 0
  EXPECT_NEAR(r.lines[1].score, 0.8, 1e-6);
  EXPECT_NEAR(r.lines[4].score, 0.0, 1e-6);
  EXPECT_EQ(r.correct, 4);  // lines 0, 1, 4, 5
  EXPECT_DOUBLE_EQ(r.accuracy(), 4.0 / 6);
  EXPECT_EQ(r.known_lines, 4);
  EXPECT_EQ(r.known_correct, 3);
  EXPECT_EQ(r.known_nearest, 3);
  EXPECT_EQ(r.unknown_lines, 2);
  EXPECT_EQ(r.unknown_correct, 1);
  EXPECT_DOUBLE_EQ(r.threshold, 0.5);
  // pairs: lines 0-4 have voices A, B, A, X, Y (line 5 none): 10 pairs, one target (0, 2) with
  // cosine 0.8*0.28 + 0.6*0.96 = 0.8; non-targets: (0,1) 0.96, (0,3) 0, (0,4) -0.8,
  // (1,2) 0.936, (1,3) -0.28, (1,4) -0.6, (2,3) -0.6, (2,4) -0.28, (3,4) -0.6. Two non-targets
  // score above the target: at threshold 0.8, P_miss 0 and P_fa 2/9; just above it P_miss 1,
  // P_fa 2/9 -> the polyline from (P_fa 2/9, P_miss 1) to (2/9, 0) crosses P_miss = P_fa at
  // 2/9.
  ASSERT_TRUE(r.verification.has_value());
  EXPECT_EQ(r.verification->targets, 1);
  EXPECT_EQ(r.verification->nontargets, 9);
  EXPECT_NEAR(r.verification->eer, 2.0 / 9, 1e-9);
}

TEST(OpenSet, NoPairOfEachKindAndBadLines) {
  Cast c;
  c.dim = 2;
  c.characters = {"ann"};
  c.centroids = {1, 0};
  c.threshold = 0.5;
  const std::vector<float> e = {1, 0, 0, 1};
  // both lines of one voice: no non-target pair, no verification
  auto r = score_open_set(c, e, {line("ann", "A"), line("ann", "A")});
  EXPECT_FALSE(r.verification.has_value());
  EXPECT_EQ(r.correct, 1);
  // a character that is neither in the cast nor unknown, and sizes that do not match
  auto bad = line("zed", "Z");
  bad.row = 7;
  try {
    score_open_set(c, e, {line("ann", "A"), bad});
    ADD_FAILURE() << "no error";
  } catch (const InputError& ex) {
    EXPECT_NE(std::string(ex.what()).find("row 7"), std::string::npos) << ex.what();
    EXPECT_NE(std::string(ex.what()).find("'zed'"), std::string::npos) << ex.what();
  }
  EXPECT_THROW(score_open_set(c, e, {line("ann", "A")}), InputError);
}

TEST(OpenSet, EvaluateCastOnTones) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  // enrol `low` only (f0, f2); test: other low files (f4, f6) and high ones (f1, f3, f5), the
  // high ones a voice the cast does not hold
  fs::write_text(dir / "cast.csv",
                 "path,start,end,character\naudio/f0.wav,0,3,low\naudio/f2.wav,0,3,low\n");
  fs::write_text(dir / "test.csv",
                 "path,start,end,character,voice\naudio/f4.wav,0,3,low,low\n"
                 "audio/f6.wav,0,2,low,low\naudio/f1.wav,0,3,unknown,high\n"
                 "audio/f3.wav,0.5,3,unknown,high\naudio/f5.wav,0,3,unknown,high\n");
  EvaluateCastOptions opts;
  opts.run = run;
  opts.cast_manifest = dir / "cast.csv";
  opts.test_manifest = dir / "test.csv";
  opts.out = dir / "open-set";
  // by default calibrated on the enrolment lines; one character leaves no stranger among them,
  // so the threshold falls back on the run's validation chunks
  const auto fallback = run_evaluate_cast(opts);
  EXPECT_EQ(fallback.lines.size(), 5u);
  const auto jf = nlohmann::json::parse(fs::read_text(opts.out / "open_set.json"));
  EXPECT_EQ(jf["scoring"], "cosine");
  EXPECT_EQ(jf["calibrate"], "validation");
  EXPECT_EQ(read_cast(opts.out / "cast.h5").calibrate, kCalibrateValidation);
  // raw cosines, the threshold of the run's validation chunks
  opts.scoring.method = metrics::kScoreCosine;
  opts.calibrate = kCalibrateValidation;
  const auto r = run_evaluate_cast(opts);
  ASSERT_EQ(r.lines.size(), 5u);
  EXPECT_EQ(r.known_lines, 2);
  EXPECT_EQ(r.unknown_lines, 3);
  // tones an octave and more apart: every pair separated, and every low line nearer the cast's
  // `low` than any high line (the threshold, calibrated on the run's validation chunks cut to
  // one window, may still fall on either side of a line: the answers follow it)
  ASSERT_TRUE(r.verification.has_value());
  EXPECT_EQ(r.verification->targets, 1 + 3);
  EXPECT_EQ(r.verification->nontargets, 2 * 3);
  EXPECT_DOUBLE_EQ(r.verification->eer, 0.0);
  int64_t correct = 0;
  for (const auto& l : r.lines) {
    EXPECT_EQ(l.nearest, "low");
    EXPECT_EQ(l.named, l.score >= r.threshold ? "low" : "unknown");
    correct += l.named == l.expected;
    if (l.expected == "unknown") {
      for (const auto& k : r.lines) {
        if (k.expected == "low") {
          EXPECT_LT(l.score, k.score) << l.file << " " << k.file;
        }
      }
    }
  }
  EXPECT_EQ(r.correct, correct);
  EXPECT_DOUBLE_EQ(r.accuracy(), static_cast<double>(correct) / 5);
  const auto j = nlohmann::json::parse(fs::read_text(opts.out / "open_set.json"));
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), r.accuracy());
  EXPECT_EQ(j["unknown"]["lines"].get<int>(), 3);
  EXPECT_DOUBLE_EQ(j["verification"]["eer"].get<double>(), 0.0);
  EXPECT_TRUE(std::filesystem::exists(opts.out / "cast.h5"));
  const auto rows = test::read_csv(opts.out / "lines.csv");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[3][4], "unknown");  // f1: expected
  EXPECT_EQ(rows[3][5], "high");     // its voice
  EXPECT_EQ(rows[3][6], r.lines[2].named);
  // a threshold given: -1 accepts every line (the 2 low lines right, the 3 high ones named
  // low), above 1 rejects every line (the 3 high lines right)
  opts.threshold = -1.0;
  EXPECT_DOUBLE_EQ(run_evaluate_cast(opts).accuracy(), 2.0 / 5);
  opts.threshold = 1.01;
  const auto none = run_evaluate_cast(opts);
  EXPECT_DOUBLE_EQ(none.accuracy(), 3.0 / 5);
  EXPECT_DOUBLE_EQ(none.unknown_accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(none.threshold, 1.01);
  // a test line labelled with a character the cast lacks: an error naming it
  fs::write_text(dir / "bad.csv", "path,start,end,character\naudio/f4.wav,0,3,high\n");
  opts.test_manifest = dir / "bad.csv";
  EXPECT_THROW(run_evaluate_cast(opts), InputError);
}

}  // namespace
}  // namespace hptrain::speakers
