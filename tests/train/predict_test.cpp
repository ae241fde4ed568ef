// run_predict end to end: a corpus of low and high tones prepared from WAV files, a CNN and a
// random forest trained on it, then both pointed at a new recording whose tone changes half way:
// every chunk's class, its place in the file's time, probabilities that sum to one, the CSV's
// columns, the summary; and the errors that name what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/train/run.h"
#include "support/support.h"

namespace hptrain::train {
namespace {

constexpr int kSr = 16000;

std::vector<float> tone(double hz, double seconds) {
  std::vector<float> x(static_cast<size_t>(seconds * kSr));
  for (size_t n = 0; n < x.size(); ++n) {
    x[n] = 0.2f * static_cast<float>(std::sin(2 * M_PI * hz * static_cast<double>(n) / kSr));
  }
  return x;
}

class Predict : public ::testing::Test {
 protected:
  void SetUp() override {
    // 12 files of 3 s: six low tones (220-330 Hz), six high (1760-2640 Hz)
    std::string csv = "path,pitch\n";
    std::filesystem::create_directories(dir_ / "audio");
    for (int i = 0; i < 12; ++i) {
      const bool low = i % 2 == 0;
      const auto x = tone((low ? 220.0 : 1760.0) * (1 + 0.1 * (i / 2)), 3.0);
      const std::string name = "f" + std::to_string(i) + ".wav";
      io::write_wav(dir_ / "audio" / name, x.data(), x.size(), kSr);
      csv += name + "," + (low ? "low" : "high") + "\n";
    }
    fs::write_text(dir_ / "audio" / "manifest.csv", csv);
    fs::write_text(dir_ / "dataset.toml", R"(
audio_root = "audio"
manifest = "audio/manifest.csv"
output = "shards"

[tasks]
pitch = ["low", "high"]

[split]
train = 0.5
validation = 0.25
test = 0.25
seed = 3

[preprocess]
sr = 16000
trim = false
chunk_s = 1
chunk_hop_s = 1

[features]
preset = "speech"
)");
    // the new recording: 2 s of a low tone, then 2 s of a high one (frequencies not trained on)
    auto film = tone(240.0, 2.0);
    const auto high = tone(1900.0, 2.0);
    film.insert(film.end(), high.begin(), high.end());
    io::write_wav(dir_ / "film.wav", film.data(), film.size(), kSr);
  }

  std::filesystem::path train(const std::string& name, const std::string& model) {
    const auto path = dir_ / (name + ".toml");
    fs::write_text(path, "[experiment]\nname = \"" + name + "\"\nseed = 1\n\n[data]\ndataset = \"" +
                             (dir_ / "dataset.toml").string() + "\"\n" + model +
                             "\n[output]\ndir = \"" + (dir_ / "runs" / name).string() + "\"\n");
    const auto r = run_experiment({path, {}, false, 0});
    return r.run_dir;
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
  }

  test::TempDir dir_;
};

TEST_F(Predict, CnnAndForestFollowTheToneThroughARecording) {
  const auto cnn = train("cnn",
                         "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nchannels = [8, 16]\n\n"
                         "[train]\ndevice = \"cpu\"\nepochs = 20\nbatch_size = 4\nthreads = 1\n"
                         "warmup_epochs = 0\npatience = 0\n");
  const auto cnn_out = run_predict({cnn, {dir_ / "film.wav"}, {}});
  ASSERT_EQ(cnn_out.size(), 1u);
  EXPECT_EQ(cnn_out[0].csv, cnn / "predictions" / "film.csv");
  expect_low_then_high(cnn_out[0]);

  const auto rf = train("rf", "input = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n");
  const auto rf_out = run_predict({rf, {dir_ / "film.wav"}, dir_ / "out"});
  ASSERT_EQ(rf_out.size(), 1u);
  EXPECT_EQ(rf_out[0].csv, dir_ / "out" / "film.csv");
  expect_low_then_high(rf_out[0]);

  // errors name what is wrong, and write nothing
  try {
    run_predict({rf, {dir_ / "missing.wav"}, dir_ / "bad"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.wav"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad" / "missing.csv"));
  EXPECT_THROW(run_predict({rf, {dir_ / "film.wav", dir_ / "audio" / "film.wav"}, {}}), InputError);
  try {
    run_predict({dir_ / "audio", {dir_ / "film.wav"}, {}});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a run folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hptrain::train
