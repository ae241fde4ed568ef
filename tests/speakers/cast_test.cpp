// A cast enrolled on the tone corpus (characters "low" and "high": the run's speaker task is
// pitch) and predict --cast naming a recording's chunks by it; naming and its threshold on
// hand-made centroids; the bad inputs (a line shorter than the window, a character without a
// usable line, a cast of another run, --cast with a forest run) each an error naming the file,
// row, character or run.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hptrain/error.h"
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
