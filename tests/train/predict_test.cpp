// run_predict end to end: a corpus of low and high tones prepared from WAV files, a CNN and a
// random forest trained on it, then both pointed at a new recording whose tone changes half way:
// every chunk's class, its place in the file's time, probabilities that sum to one, the CSV's
// columns, the timeline of segments, the summary; a corrupt file among good ones fails alone;
// and the errors that name what is wrong.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/train/run.h"
#include "io/audio_fixtures.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::train {
namespace {

class Predict : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tone_corpus(dir_.path()); }

  std::filesystem::path train(const std::string& name, const std::string& model) {
    const auto path = dir_ / (name + ".toml");
    fs::write_text(path, "[experiment]\nname = \"" + name + "\"\nseed = 1\n\n[data]\ndataset = \"" +
                             (dir_ / "dataset.toml").string() + "\"\n" + model +
                             "\n[output]\ndir = \"" + (dir_ / "runs" / name).string() + "\"\n");
    const auto r = run_experiment({path, {}, false, 0});
    return r.run_dir;
  }

  static PredictOptions options(const std::filesystem::path& run,
                                std::vector<std::filesystem::path> files,
                                std::filesystem::path out = {}) {
    PredictOptions o;
    o.run = run;
    o.files = std::move(files);
    o.out = std::move(out);
    return o;
  }

  // Every row of the CSV: start and duration in the file's time, the predicted class, and
  // probabilities that sum to one and whose largest is that class.
  void expect_low_then_high(const FilePrediction& p) {
    EXPECT_EQ(p.chunks, 4);
    EXPECT_NEAR(p.seconds, 4.0, 1e-9);
    EXPECT_NEAR(p.share.at("pitch").at("low"), 0.5, 1e-9);
    EXPECT_NEAR(p.share.at("pitch").at("high"), 0.5, 1e-9);
    const auto rows = test::read_csv(p.csv);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"start_s", "duration_s", "pitch", "pitch:low",
                                                 "pitch:high"}));
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), 5u) << i;
      EXPECT_NEAR(std::stod(rows[i][0]), static_cast<double>(i - 1), 1e-9) << i;
      EXPECT_NEAR(std::stod(rows[i][1]), 1.0, 1e-9) << i;
      EXPECT_EQ(rows[i][2], i <= 2 ? "low" : "high") << "chunk " << i - 1;
      const double low = std::stod(rows[i][3]), high = std::stod(rows[i][4]);
      EXPECT_NEAR(low + high, 1.0, 1e-5) << i;
      EXPECT_EQ(rows[i][2] == "low", low > high) << i;
    }
    // the timeline: two segments, the change at 2 s, each the mean of its chunks' probabilities
    EXPECT_EQ(p.segments, p.csv.parent_path() / "film.segments.csv");
    EXPECT_EQ(p.segment_count.at("pitch"), 2);
    const auto seg = test::read_csv(p.segments);
    ASSERT_EQ(seg.size(), 3u);
    EXPECT_EQ(seg[0], (std::vector<std::string>{"task", "class", "start_s", "end_s", "chunks",
                                                "mean_probability"}));
    for (size_t i = 1; i < seg.size(); ++i) {
      ASSERT_EQ(seg[i].size(), 6u) << i;
      EXPECT_EQ(seg[i][0], "pitch");
      EXPECT_EQ(seg[i][1], i == 1 ? "low" : "high");
      EXPECT_NEAR(std::stod(seg[i][2]), 2.0 * static_cast<double>(i - 1), 1e-9);
      EXPECT_NEAR(std::stod(seg[i][3]), 2.0 * static_cast<double>(i), 1e-9);
      EXPECT_EQ(seg[i][4], "2");
      const size_t col = i == 1 ? 3 : 4;  // the segment's class's probability column
      const double mean = (std::stod(rows[2 * i - 1][col]) + std::stod(rows[2 * i][col])) / 2;
      EXPECT_NEAR(std::stod(seg[i][5]), mean, 2e-6) << i;
    }
  }

  test::TempDir dir_;
};

TEST_F(Predict, CnnAndForestFollowTheToneThroughARecording) {
  const auto cnn = train("cnn",
                         "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nchannels = [8, 16]\n\n"
                         "[train]\ndevice = \"cpu\"\nepochs = 20\nbatch_size = 4\nthreads = 1\n"
                         "warmup_epochs = 0\npatience = 0\n");
  const auto cnn_out = run_predict(options(cnn, {dir_ / "film.wav"}));
  ASSERT_EQ(cnn_out.size(), 1u);
  EXPECT_EQ(cnn_out[0].csv, cnn / "predictions" / "film.csv");
  expect_low_then_high(cnn_out[0]);
  // one chunk per batch: the same classes and probabilities
  auto one = options(cnn, {dir_ / "film.wav"}, dir_ / "batch-1");
  one.batch_size = 1;
  const auto single = run_predict(one);
  ASSERT_EQ(single.size(), 1u);
  const auto a = test::read_csv(single[0].csv), b = test::read_csv(cnn_out[0].csv);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 1; i < a.size(); ++i) {
    EXPECT_EQ(a[i][2], b[i][2]) << "chunk " << i - 1;
    EXPECT_NEAR(std::stod(a[i][3]), std::stod(b[i][3]), 1e-5) << "chunk " << i - 1;
  }
  one.batch_size = -1;
  EXPECT_THROW(run_predict(one), ConfigError);

  const auto rf = train("rf", "input = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n");
  const auto rf_out = run_predict(options(rf, {dir_ / "film.wav"}, dir_ / "out"));
  ASSERT_EQ(rf_out.size(), 1u);
  EXPECT_EQ(rf_out[0].csv, dir_ / "out" / "film.csv");
  expect_low_then_high(rf_out[0]);

  // a corrupt file and a missing one among good ones fail alone, named, with nothing written
  fs::write_text(dir_ / "corrupt.wav", "RIFF, but not a WAV file");
  std::vector<std::string> seen;
  auto opts =
      options(rf, {dir_ / "corrupt.wav", dir_ / "film.wav", dir_ / "missing.wav"}, dir_ / "bad");
  opts.on_file = [&seen](const FilePrediction& r) { seen.push_back(r.file.filename().string()); };
  const auto mixed = run_predict(opts);
  EXPECT_EQ(seen, (std::vector<std::string>{"corrupt.wav", "film.wav", "missing.wav"}));
  ASSERT_EQ(mixed.size(), 3u);
  for (size_t i : {0, 2}) {
    const std::string name = mixed[i].file.filename().string();
    EXPECT_NE(mixed[i].error.find(name), std::string::npos) << mixed[i].error;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "bad" / (mixed[i].file.stem().string() + ".csv")));
    EXPECT_FALSE(
        std::filesystem::exists(dir_ / "bad" / (mixed[i].file.stem().string() + ".segments.csv")));
  }
  EXPECT_TRUE(mixed[1].error.empty()) << mixed[1].error;
  expect_low_then_high(mixed[1]);

  // outputs that would overwrite each other: refused before any file is read
  EXPECT_THROW(run_predict(options(rf, {dir_ / "film.wav", dir_ / "audio" / "film.wav"})),
               InputError);
  EXPECT_THROW(run_predict(options(rf, {dir_ / "film.wav", dir_ / "film.segments.wav"})),
               InputError);
  try {
    run_predict(options(dir_ / "audio", {dir_ / "film.wav"}));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a run folder"), std::string::npos) << e.what();
  }
}

// A film with a video stream and two audio tracks: --stream picks the track that is classified
// (as ffprobe numbers the streams); by default the first audio track; a video stream is refused
// for that file alone.
TEST_F(Predict, StreamPicksTheAudioTrackOfAFilm) {
  if (!test::can_test_video()) GTEST_SKIP() << "built without FFmpeg, or no ffmpeg command on PATH";
  const auto rf = train("rf", "input = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n");
  const auto high = test::tone(1900.0, 4.0);
  io::write_wav(dir_ / "high.wav", high.data(), high.size(), 16000);
  // stream 0: video; 1: a steady high tone; 2: film.wav (low, then high)
  std::filesystem::create_directories(dir_ / "tracks");
  ASSERT_TRUE(test::ffmpeg("-f lavfi -i testsrc=size=32x32:rate=5:duration=4 -i '" +
                           (dir_ / "high.wav").string() + "' -i '" + (dir_ / "film.wav").string() +
                           "' -map 0:v -map 1:a -map 2:a -c:v mpeg4 -c:a flac '" +
                           (dir_ / "tracks" / "film.mkv").string() + "'"));
  auto opts = options(rf, {dir_ / "tracks" / "film.mkv"}, dir_ / "by-stream");
  opts.stream = 2;
  const auto second = run_predict(opts);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_TRUE(second[0].error.empty()) << second[0].error;
  expect_low_then_high(second[0]);

  opts.stream.reset();
  const auto first = run_predict(opts);
  ASSERT_TRUE(first[0].error.empty()) << first[0].error;
  EXPECT_EQ(first[0].chunks, 4);
  EXPECT_NEAR(first[0].share.at("pitch").at("high"), 1.0, 1e-9);
  EXPECT_EQ(first[0].segment_count.at("pitch"), 1);

  opts.stream = 0;
  const auto video = run_predict(opts);
  EXPECT_NE(video[0].error.find("stream 0 is not audio"), std::string::npos) << video[0].error;
  opts.stream = -2;
  EXPECT_THROW(run_predict(opts), ConfigError);
}

// issue 22, case 1: a classes.json that does not match the model (fewer names than outputs: a
// heap overflow; more: reads past the probabilities; reordered: swapped labels) is refused
// before any file is read, for the forest and the CNN.
TEST_F(Predict, ClassesThatDoNotMatchTheModelAreRefused) {
  const auto rf = train("rf", "input = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 5\n");
  const auto cnn = train("cnn",
                         "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nchannels = [4, 8]\n\n"
                         "[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 4\nthreads = 1\n"
                         "warmup_epochs = 0\n");
  for (const auto& run : {rf, cnn}) {
    const std::string saved = fs::read_text(run / "classes.json");
    for (const char* names :
         {R"(["low"])", R"(["a", "b", "c", "d", "e", "f", "g", "h"])", R"(["high", "low"])"}) {
      SCOPED_TRACE(run.filename().string() + " " + names);
      fs::write_text(run / "classes.json", std::string(R"({"pitch": )") + names + "}");
      try {
        run_predict(options(run, {dir_ / "film.wav"}, dir_ / "never"));
        FAIL() << "no error";
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("classes.json"), std::string::npos) << e.what();
      }
      EXPECT_FALSE(std::filesystem::exists(dir_ / "never"));
    }
    fs::write_text(run / "classes.json", saved);
    const auto ok = run_predict(options(run, {dir_ / "film.wav"}, dir_ / "ok"));
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_TRUE(ok[0].error.empty()) << ok[0].error;
  }
  // the dataset's features edited after training (the same shapes: only the fingerprint sees it)
  const auto toml = dir_ / "dataset.toml";
  const std::string text = fs::read_text(toml);
  fs::write_text(toml, text + "\n[features.mel]\nfmin = 40.0\n");
  try {
    run_predict(options(rf, {dir_ / "film.wav"}, dir_ / "never"));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[preprocess] or [features] changed"), std::string::npos)
        << e.what();
  }
  fs::write_text(toml, text);
}

}  // namespace
}  // namespace hptrain::train
