// A cast enrolled on the tone corpus (characters "low" and "high": the run's speaker task is
// pitch) and predict --cast naming a recording's chunks by it; naming and its threshold on
// hand-made centroids; the bad inputs (a line shorter than the window, a character without a
// usable line, a cast of another run, --cast with a forest run) each an error naming the file,
// row, character or run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/h5.h"
#include "hptrain/metrics/verification.h"
#include "hptrain/speakers/cast.h"
#include "hptrain/train/run.h"
#include "speakers/speaker_runs.h"
#include "support/support.h"

namespace hptrain::speakers {
namespace {

// The message of the InputError `f` throws ("" when it throws none).
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const auto has = test::contains;

TEST(Cast, NamingByCentroidAndThreshold) {
  Cast c;
  c.dim = 2;
  c.characters = {"ann", "bob"};
  c.centroids = {1, 0, 0, 1};
  c.threshold = 0.5;
  double score = 0;
  const float a[] = {0.8f, 0.6f};  // cosine 0.8 to ann, 0.6 to bob
  EXPECT_EQ(name_window(c, a, &score), 0);
  EXPECT_NEAR(score, 0.8, 1e-6);
  const float b[] = {0.6f, 0.8f};
  EXPECT_EQ(name_window(c, b, &score), 1);
  const float neither[] = {-0.9165151f, 0.4f};  // unit; best: bob at 0.4 < 0.5
  EXPECT_EQ(name_window(c, neither, &score), -1);
  EXPECT_NEAR(score, 0.4, 1e-6);
  c.threshold = 0.4;  // at the threshold: accepted
  EXPECT_EQ(name_window(c, neither), 1);
  // another run's cast: dimensions, then fingerprint
  c.run = "runs/a";
  c.fingerprint = "0123456789abcdef";
  EXPECT_TRUE(has(input_error([&] { check_cast(c, "cast.h5", "runs/b", c.fingerprint, 3); }),
                  "2 dimensions"));
  const auto other =
      input_error([&] { check_cast(c, "cast.h5", "runs/b", "fedcba9876543210", 2); });
  EXPECT_TRUE(has(other, "cast.h5") && has(other, "runs/a") && has(other, "runs/b")) << other;
  EXPECT_NO_THROW(check_cast(c, "cast.h5", "runs/a", c.fingerprint, 2));
}

TEST(Cast, EnrolmentTrialsWorkedByHand) {
  // cosine scores, 2 dimensions. Character 0: lines (2,0) (two windows along x) and (0.6,0.8);
  // character 1: one line (0,1).
  const metrics::Scorer cos(metrics::ScoreNormConfig{metrics::kScoreCosine, 300}, nullptr, 0, 2);
  const std::vector<float> sums = {2, 0, 0.6f, 0.8f, 0, 1};
  const auto t = enrolment_trials(cos, sums, {0, 0, 1});
  // line 0: target against its character without it, (0.6,0.8): 0.6; non-target against
  // character 1, (0,1): 0. line 1: target against (2,0): 0.6; non-target (0,1): 0.8. line 2:
  // no target (its character's only line); non-target against character 0's whole centroid,
  // (2.6,0.8) normalised: 0.8 / sqrt(7.4) = 0.294086
  const std::vector<double> want = {0.6, 0.0, 0.6, 0.8, 0.8 / std::sqrt(7.4)};
  const std::vector<bool> target = {true, false, true, false, false};
  ASSERT_EQ(t.scores.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(t.scores[i], want[i], 1e-6) << i;
  EXPECT_EQ(t.target, target);
  // the threshold the cast would take: targets {0.6, 0.6}, non-targets {0, 0.8, 0.294}
  const auto v = metrics::verification(t.scores, t.target);
  EXPECT_NEAR(v.eer, 1.0 / 3, 1e-9);  // 0.8 above both targets: P_fa 1/3 where P_miss 0
  EXPECT_DOUBLE_EQ(calibrate_threshold(t.scores, t.target).threshold, v.threshold);
  // separated trials: the middle of the gap between 0.4 and 0.7, not the lowest target
  const auto gap = calibrate_threshold({0.9, 0.7, 0.4, 0.1}, {true, true, false, false});
  EXPECT_DOUBLE_EQ(gap.eer, 0.0);
  EXPECT_NEAR(gap.threshold, 0.55, 1e-12);
  EXPECT_NEAR(metrics::verification({0.9, 0.7, 0.4, 0.1}, {true, true, false, false}).threshold,
              0.7, 1e-12);
  // the best other character, not each: 3 characters give one non-target per line
  const auto three = enrolment_trials(cos, {1, 0, 0.8f, 0.6f, 0, 1, 0.6f, -0.8f}, {0, 0, 1, 2});
  EXPECT_EQ(std::count(three.target.begin(), three.target.end(), false), 4);
  EXPECT_NEAR(three.scores[1], 0.6, 1e-6);  // (1,0): best of (0,1) at 0 and (0.6,-0.8) at 0.6

  // bad input: no character with two lines, one character, sizes
  const auto one_line = input_error([&] { enrolment_trials(cos, {1, 0, 0, 1}, {0, 1}); });
  EXPECT_TRUE(has(one_line, "two usable enrolment lines")) << one_line;
  const auto one_char = input_error([&] { enrolment_trials(cos, {1, 0, 0, 1}, {0, 0}); });
  EXPECT_TRUE(has(one_char, "one character")) << one_char;
  EXPECT_THROW(enrolment_trials(cos, {1, 0, 0}, {0, 0}), InputError);
}

// Voices as in a film mix heard by one model: every embedding shares a large common part (3 e0)
// beside its voice (a random unit direction in the other 15 dimensions) and noise, so raw
// cosines of anyone to anyone are near 0.9. The cast (3 voices) is enrolled from 3 lines each;
// the cohort holds 30 other voices; 4 strangers are in neither. AS-norm calibrated on the
// enrolment lines names every cast line right and every stranger unknown, while the strangers'
// raw best cosines are as high as the cast lines'.
TEST(Cast, StrangersNamedUnknownByAsNormCalibratedOnTheEnrolment) {
  constexpr int64_t D = 16;
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const auto new_voice = [&] {
    std::vector<float> v(D, 0.0f);
    double n = 0;
    for (int64_t d = 1; d < D; ++d) {
      v[d] = gauss(rng);
      n += v[d] * v[d];
    }
    for (auto& x : v) x = static_cast<float>(x / std::sqrt(n));
    return v;
  };
  const auto line = [&](const std::vector<float>& voice) {
    std::vector<float> e(D);
    for (int64_t d = 0; d < D; ++d) e[d] = (d == 0 ? 3.0f : voice[d]) + 0.1f * gauss(rng);
    return e;
  };
  Cast cast;
  cast.dim = D;
  cast.characters = {"a", "b", "c"};
  cast.scoring = {metrics::kScoreAsNorm, 20};
  for (int i = 0; i < 30; ++i) {
    const auto v = new_voice();
    for (int k = 0; k < 2; ++k) {
      const auto e = line(v);
      cast.cohort.insert(cast.cohort.end(), e.begin(), e.end());
    }
  }
  cast.cohort_n = 60;
  std::vector<std::vector<float>> voices, strangers;
  std::vector<float> sums;
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < 3; ++c) {
    voices.push_back(new_voice());
    std::vector<double> centroid(D, 0.0);
    for (int k = 0; k < 3; ++k) {
      const auto e = line(voices.back());
      sums.insert(sums.end(), e.begin(), e.end());
      labels.push_back(c);
      for (int64_t d = 0; d < D; ++d) centroid[d] += e[d];
    }
    double n = 0;
    for (double v : centroid) n += v * v;
    for (double v : centroid) cast.centroids.push_back(static_cast<float>(v / std::sqrt(n)));
  }
  for (int i = 0; i < 4; ++i) strangers.push_back(new_voice());
  prepare_scorer(cast);
  const auto t = enrolment_trials(*cast.scorer, sums, labels);
  const auto v = calibrate_threshold(t.scores, t.target);
  EXPECT_DOUBLE_EQ(v.eer, 0.0);
  cast.threshold = v.threshold;
  std::vector<double> cast_raw, stranger_raw;  // best raw cosines
  const auto best_raw = [&](const std::vector<float>& e) {
    double b = -1;
    for (size_t k = 0; k < 3; ++k) b = std::max(b, cosine(e.data(), cast.centroid(k), D));
    return b;
  };
  for (int i = 0; i < 12; ++i) {
    const int64_t c = i % 3;
    const auto known = line(voices[static_cast<size_t>(c)]);
    double score = 0;
    EXPECT_EQ(name_window(cast, known.data(), &score), c)
        << "cast line " << i << ": " << score << " < " << cast.threshold;
    const auto stranger = line(strangers[static_cast<size_t>(i % 4)]);
    EXPECT_EQ(name_window(cast, stranger.data(), &score), -1)
        << "stranger " << i << ": " << score << " >= " << cast.threshold;
    cast_raw.push_back(best_raw(known));
    stranger_raw.push_back(best_raw(stranger));
  }
  std::sort(cast_raw.begin(), cast_raw.end());
  std::sort(stranger_raw.begin(), stranger_raw.end());
  EXPECT_GT(stranger_raw[6], 0.85);  // medians
  EXPECT_LT(cast_raw[6] - stranger_raw[6], 0.1);
}

TEST(Cast, OldCastFilesScoreByCosineAndBadScoringsFail) {
  test::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& scoring, bool cohort) {
    h5::File f = h5::File::create(dir / name);
    const std::vector<float> centroids = {1, 0, 0, 1};
    const std::vector<int64_t> ones = {1, 1};
    f.write("centroids", centroids.data(), {2, 2});
    f.write_strings("characters", {"ann", "bob"});
    f.write("lines", ones.data(), {2});
    f.write("windows", ones.data(), {2});
    if (cohort) {
      const std::vector<float> rows = {1, 0, 0, 1, -1, 0, 0, -1};
      f.write("cohort", rows.data(), {4, 2});
    }
    for (const char* a : {"run", "fingerprint", "calibration"}) f.set_attr("/", a, "x");
    if (!scoring.empty()) f.set_attr("/", "scoring", scoring);
    for (const char* a : {"eer", "min_dcf", "window_s", "hop_s"}) f.set_attr("/", a, 0.5);
    f.set_attr("/", "threshold", 0.5);
    f.close();
    return dir / name;
  };
  // a file from before scoring was recorded: raw cosines, its threshold a cosine
  const Cast old = read_cast(write("old.h5", "", false));
  EXPECT_EQ(old.scoring.method, metrics::kScoreCosine);
  const float a[] = {0.8f, 0.6f};
  double score = 0;
  EXPECT_EQ(name_window(old, a, &score), 0);
  EXPECT_NEAR(score, 0.8, 1e-6);
  // as-norm with its cohort: (0.8,0.6) against ann (1,0): s 0.8; the line's top 300 = all four
  // cohort scores {0.8, 0.6, -0.8, -0.6}: mean 0, std sqrt(0.5); ann's {1, 0, -1, 0}: mean 0,
  // std sqrt(0.5): 0.8 / sqrt(0.5) = 1.131371
  const Cast as = read_cast(write("as.h5", "as-norm", true));
  EXPECT_EQ(as.cohort_n, 4);
  EXPECT_EQ(name_window(as, a, &score), 0);
  EXPECT_NEAR(score, 0.8 / std::sqrt(0.5), 1e-6);
  const auto no_cohort = input_error([&] { read_cast(write("nc.h5", "as-norm", false)); });
  EXPECT_TRUE(has(no_cohort, "nc.h5") && has(no_cohort, "cohort")) << no_cohort;
  const auto unknown = input_error([&] { read_cast(write("plda.h5", "plda", true)); });
  EXPECT_TRUE(has(unknown, "plda.h5") && has(unknown, "scoring = 'plda'")) << unknown;
}

TEST(Cast, EnrolThenPredictNamesTheChunks) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto run = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  // f0, f2: low tones; f1, f3: high tones (3 s each)
  fs::write_text(dir / "cast.csv",
                 "path,start,end,character\naudio/f0.wav,0,1.5,low\naudio/f2.wav,0.5,3,low\n"
                 "audio/f1.wav,0,1.5,high\naudio/f3.wav,1,3,high\n");
  EnrollOptions opts;
  opts.run = run;
  opts.manifest = dir / "cast.csv";
  opts.out = dir / "cast.h5";
  const Cast made = run_enroll(opts);
  const Cast cast = read_cast(opts.out);
  EXPECT_EQ(cast.characters, (std::vector<std::string>{"high", "low"}));
  EXPECT_EQ(cast.lines, (std::vector<int64_t>{2, 2}));
  // windows per line: 1.5 s: 0 and 0.75 (0.75 s left, half a window: kept); 2 s: 0 and 0.75
  // (1.25 s left: kept); 2.5 s: 0, 0.75 and 1.5 (1 s left: kept)
  EXPECT_EQ(cast.windows, (std::vector<int64_t>{2 + 2, 2 + 3}));
  EXPECT_EQ(cast.fingerprint, made.fingerprint);
  EXPECT_EQ(cast.weights, weights_checksum(run));
  EXPECT_EQ(cast.dim, 32);
  // by default: cosine, calibrated on the enrolment lines (2 per character: 4 targets, 4 lines
  // against the other character), the trials kept in the file
  EXPECT_EQ(cast.scoring.method, metrics::kScoreCosine);
  EXPECT_EQ(cast.calibrate, kCalibrateEnrolment);
  EXPECT_EQ(cast.cohort_n, 0);
  {
    const h5::File f = h5::File::open_read(opts.out);
    const auto scores = f.read_doubles("calibration_scores");
    const auto target = f.read_int64s("calibration_target");
    ASSERT_EQ(scores.size(), 8u);
    EXPECT_EQ(std::count(target.begin(), target.end(), 1), 4);
    std::vector<bool> tb;
    for (auto t : target) tb.push_back(t == 1);
    EXPECT_DOUBLE_EQ(calibrate_threshold(scores, tb).threshold, cast.threshold);
  }
  // as-norm: the cohort (the run's training chunks of a voice) kept with the cast, and a cast
  // read back names as the one enrolled
  EnrollOptions as = opts;
  as.scoring.method = metrics::kScoreAsNorm;
  as.out = dir / "as.h5";
  const Cast as_made = run_enroll(as);
  const Cast as_read = read_cast(as.out);
  EXPECT_EQ(as_read.scoring.method, metrics::kScoreAsNorm);
  EXPECT_GE(as_read.cohort_n, 2);
  EXPECT_EQ(as_read.cohort, as_made.cohort);
  EXPECT_DOUBLE_EQ(as_read.threshold, as_made.threshold);
  for (size_t c = 0; c < 2; ++c) {
    double a = 0, b = 0;
    EXPECT_EQ(name_window(as_made, cast.centroid(c), &a),
              name_window(as_read, cast.centroid(c), &b));
    EXPECT_DOUBLE_EQ(a, b);
  }
  EXPECT_DOUBLE_EQ(cast.threshold, made.threshold);
  EXPECT_GE(cast.eer, 0.0);
  EXPECT_LE(cast.eer, 0.5);
  EXPECT_TRUE(std::isfinite(cast.threshold));
  for (size_t c = 0; c < 2; ++c) {
    double n = 0;
    for (int64_t d = 0; d < cast.dim; ++d) n += cast.centroid(c)[d] * cast.centroid(c)[d];
    EXPECT_NEAR(n, 1.0, 1e-5);
  }

  train::PredictOptions p;
  p.run = run;
  p.files = {dir / "film.wav"};
  p.cast = opts.out;
  const auto out = train::run_predict(p);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].error.empty()) << out[0].error;
  const auto rows = test::read_csv(out[0].csv);
  ASSERT_EQ(rows.size(), 5u);  // 4 chunks of 1 s
  const std::vector<std::string> tail(rows[0].end() - 4, rows[0].end());
  EXPECT_EQ(tail, (std::vector<std::string>{"cast", "cast_score", "cast:high", "cast:low"}));
  const size_t col = rows[0].size() - 4;
  for (size_t i = 1; i < rows.size(); ++i) {
    const bool low = i <= 2;  // film.wav: 2 s low, then 2 s high
    const double high_s = std::stod(rows[i][col + 2]), low_s = std::stod(rows[i][col + 3]);
    EXPECT_EQ(low, low_s > high_s) << "chunk " << i - 1;
    EXPECT_NEAR(std::stod(rows[i][col + 1]), std::max(low_s, high_s), 1e-6);
    const std::string named =
        std::max(low_s, high_s) >= cast.threshold ? (low ? "low" : "high") : "unknown";
    EXPECT_EQ(rows[i][col], named) << "chunk " << i - 1;
  }
  // the timeline holds the cast as a task
  EXPECT_EQ(out[0].share.count("cast"), 1u);
  bool cast_rows = false;
  for (const auto& r : test::read_csv(out[0].segments)) cast_rows = cast_rows || r[0] == "cast";
  EXPECT_TRUE(cast_rows);

  // a cast of another run: a CNN of other widths (16-dimensional embeddings) refuses it
  const auto other = test::train_tone_run(
      dir.path(), "cnn2",
      "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nloss_task = \"pitch\"\nchannels = [4, 8]\n"
      "\n[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 4\nthreads = 1\nwarmup_epochs = 0\n");
  p.run = other;
  const auto e = input_error([&] { train::run_predict(p); });
  EXPECT_TRUE(has(e, "cast.h5") && has(e, other.string())) << e;
  // the same settings trained apart (one epoch fewer: the same fingerprint, other weights)
  std::string fewer = test::kToneCnn;
  fewer.replace(fewer.find("epochs = 12"), 11, "epochs = 11");
  const auto twin = test::train_tone_run(dir.path(), "twin", fewer);
  p.run = twin;
  const auto w = input_error([&] { train::run_predict(p); });
  EXPECT_TRUE(has(w, "other weights") && has(w, twin.string()) && has(w, "cast.h5")) << w;
  // --cast with a forest run
  const auto rf = test::train_tone_run(dir.path(), "rf", test::kToneForest);
  p.run = rf;
  const auto f = input_error([&] { train::run_predict(p); });
  EXPECT_TRUE(has(f, rf.string()) && has(f, "rf run") && has(f, "cast.h5")) << f;
  opts.run = rf;
  EXPECT_TRUE(has(input_error([&] { run_enroll(opts); }), "no embedding"));

  // a line shorter than the window: the row named
  opts.run = run;
  fs::write_text(dir / "short.csv",
                 "path,start,end,character\naudio/f0.wav,0,1.5,low\naudio/f1.wav,1,2.2,high\n");
  opts.manifest = dir / "short.csv";
  const auto s = input_error([&] { run_enroll(opts); });
  EXPECT_TRUE(has(s, "short.csv:3") && has(s, "shorter than the window")) << s;
  // a character whose only line lies past its file's end (3 s), or in a file that cannot be
  // decoded: no usable line, the character and its rows named
  fs::write_text(dir / "corrupt.wav", "RIFF, but not a WAV file");
  fs::write_text(dir / "unusable.csv",
                 "path,start,end,character\naudio/f0.wav,0,1.5,low\naudio/f1.wav,5,7,high\n"
                 "corrupt.wav,0,2,high\n");
  opts.manifest = dir / "unusable.csv";
  const auto u = input_error([&] { run_enroll(opts); });
  EXPECT_TRUE(has(u, "'high' has no usable line") && has(u, "rows 3, 4")) << u;
  // malformed rows
  fs::write_text(dir / "bad.csv", "path,start,end,character\naudio/f0.wav,x,1.5,low\n");
  opts.manifest = dir / "bad.csv";
  EXPECT_TRUE(has(input_error([&] { run_enroll(opts); }), "bad.csv:2"));
  fs::write_text(dir / "nocol.csv", "path,start,end\naudio/f0.wav,0,1.5\n");
  opts.manifest = dir / "nocol.csv";
  EXPECT_TRUE(has(input_error([&] { run_enroll(opts); }), "no column 'character'"));
}

}  // namespace
}  // namespace hptrain::speakers
