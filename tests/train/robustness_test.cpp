// evaluate --noise end to end on the tone corpus (low and high tones): a forest's test chunks
// rebuilt from their WAVs give the shards' own metrics (the same inputs, bit for bit) clean and
// at 60 dB; a tone mixed in at -20 dB loses the clean score; the same seed
// gives the same file; the report's table; and the errors (SNR range, empty folder, moved
// sources naming audio_root, babble without a speaker task).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::train {
namespace {

class Robustness : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_tone_corpus(dir_.path());
    const auto path = dir_ / "rf.toml";
    fs::write_text(path, "[experiment]\nname = \"rf\"\nseed = 1\n\n[data]\ndataset = \"" +
                             (dir_ / "dataset.toml").string() +
                             "\"\ninput = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n"
                             "\n[output]\ndir = \"" +
                             (dir_ / "runs" / "rf").string() + "\"\n");
    run_ = run_experiment({path, {}, false, 0}).run_dir;
    // the user's noise: a high tone the forest was trained on (f1.wav)
    std::filesystem::create_directories(dir_ / "noise");
    const auto hum = test::tone(1760.0, 2.5);
    io::write_wav(dir_ / "noise" / "hum.wav", hum.data(), hum.size(), 16000);
  }

  RobustnessOptions options(std::vector<std::string> noise, std::vector<double> snr) const {
    RobustnessOptions o;
    o.run = run_;
    o.noise = std::move(noise);
    o.snr_db = std::move(snr);
    o.seed = 5;
    return o;
  }

  const nlohmann::json& row(const nlohmann::json& j, const std::string& kind, double snr) {
    for (const auto& r : j.at("results")) {
      if (r.at("kind") == kind && r.at("snr_db").get<double>() == snr) return r;
    }
    ADD_FAILURE() << "no row " << kind << " " << snr;
    static const nlohmann::json kNone;
    return kNone;
  }

  test::TempDir dir_;
  std::filesystem::path run_;
};

TEST_F(Robustness, CleanIsTheShardsAndLoudNoiseCostsTheScore) {
  const std::string folder = "folder:" + (dir_ / "noise").string();
  const auto j = run_robustness(options({folder}, {60, -20}));
  // clean: the same chunks and inputs as the shards, so the same metrics as evaluate
  const auto shards = run_evaluate({run_, "test", {}});
  EXPECT_EQ(j.at("max_clean_input_difference").get<double>(), 0.0);
  EXPECT_EQ(j.at("clean").at("pitch").at("accuracy"),
            shards.at("tasks").at("pitch").at("accuracy"));
  EXPECT_EQ(j.at("clean").at("pitch").at("f1_macro"),
            shards.at("tasks").at("pitch").at("f1_macro"));
  for (const auto& [c, scores] : shards.at("tasks").at("pitch").at("per_class").items()) {
    EXPECT_EQ(j.at("clean").at("pitch").at("f1_per_class").at(c), scores.at("f1")) << c;
  }
  EXPECT_EQ(row(j, folder, -20).at("f1_per_class").size(), 2u);
  const data::ShardDataset ds(dir_ / "shards", "test");
  EXPECT_EQ(j.at("chunks").get<int64_t>(), ds.size());
  // 60 dB: the hum is 1/1e6 of the tone's power; nothing changes
  EXPECT_EQ(row(j, folder, 60).at("accuracy"), j.at("clean").at("pitch").at("accuracy"));
  // -20 dB: the hum has 100x the tones' power (and a level the forest never saw): the clean
  // score (every chunk right) is lost
  EXPECT_DOUBLE_EQ(shards.at("tasks").at("pitch").at("accuracy").get<double>(), 1.0);
  EXPECT_LT(row(j, folder, -20).at("accuracy").get<double>(), 0.9);
  EXPECT_TRUE(std::filesystem::exists(run_ / "robustness.json"));
  for (const auto& e : std::filesystem::recursive_directory_iterator(run_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }

  // the same seed: the same file; another kind later keeps this one's rows
  const auto again = run_robustness(options({folder}, {60, -20}));
  EXPECT_EQ(again.at("results"), j.at("results"));
  const auto both = run_robustness(options({"white"}, {10}));
  EXPECT_EQ(both.at("results").size(), 3u);
  const auto written = nlohmann::json::parse(fs::read_text(run_ / "robustness.json"));
  EXPECT_EQ(written.at("results"), both.at("results"));

  // the report: one line per run, task and kind; clean then each SNR, highest first
  ReportOptions ro;
  ro.runs = dir_ / "runs";
  ro.robustness = true;
  const auto table = robustness_report(ro);
  EXPECT_NE(table.find("| run | task | noise | clean | 60 dB | 10 dB | -20 dB |"),
            std::string::npos)
      << table;
  char f1[16];
  std::snprintf(f1, sizeof f1, "%.3f", row(j, folder, -20).at("f1_macro").get<double>());
  EXPECT_NE(table.find("| rf | pitch | " + folder + " | 1.000 | 1.000 | - | " + f1 + " |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| rf | pitch | white | 1.000 | - | "), std::string::npos) << table;
}

// --split validation: the validation chunks, clean as the shards' validation metrics, in files
// of their own beside the test split's.
TEST_F(Robustness, TheValidationSplitHasItsOwnFile) {
  auto o = options({"white"}, {60});
  run_robustness(o);
  const auto shards = run_evaluate({run_, "validation", {}});
  // the test split's sources gone: validation needs only its own
  const data::ShardDataset test(dir_ / "shards", "test");
  for (const auto& src : test.sources()) {
    std::filesystem::remove(dir_ / "audio" / src);
  }
  EXPECT_THROW(run_robustness(o), InputError);
  o.split = "validation";
  const auto j = run_robustness(o);
  EXPECT_EQ(j.at("split"), "validation");
  EXPECT_EQ(j.at("max_clean_input_difference").get<double>(), 0.0);
  EXPECT_EQ(j.at("clean").at("pitch").at("f1_macro"),
            shards.at("tasks").at("pitch").at("f1_macro"));
  EXPECT_EQ(j.at("chunks").get<int64_t>(),
            data::ShardDataset(dir_ / "shards", "validation").size());
  const auto written = nlohmann::json::parse(fs::read_text(run_ / "robustness_validation.json"));
  EXPECT_EQ(written.at("results"), j.at("results"));
  EXPECT_TRUE(std::filesystem::exists(run_ / "robustness_validation.png"));
  EXPECT_EQ(nlohmann::json::parse(fs::read_text(run_ / "robustness.json")).at("split"), "test");
  o.split = "train";  // the noise pools come from it
  EXPECT_THROW(run_robustness(o), ConfigError);
}

// Batches are filled across sources and conditions (7 items: a source's 3 test chunks under 3
// conditions, cut mid-source and mid-condition) and prepared on a second thread: each item's
// features and probabilities must be those of one item at a time (batch 1), bit for bit (the
// features and the forest are per example), with the clean inputs still the shards'.
TEST_F(Robustness, BatchesAcrossSourcesAndConditionsAreOneAtATime) {
  auto o = options({"white", "pink"}, {20, 0, -10});
  o.batch_size = 1;
  const auto one = run_robustness(o);
  o.batch_size = 7;
  const auto seven = run_robustness(o);
  o.batch_size = 1000;  // one batch for everything
  const auto all = run_robustness(o);
  for (const auto* j : {&one, &seven, &all}) {
    EXPECT_EQ(j->at("max_clean_input_difference").get<double>(), 0.0);
    EXPECT_EQ(j->at("results").size(), 6u);
  }
  EXPECT_EQ(seven.at("results"), one.at("results"));
  EXPECT_EQ(seven.at("clean"), one.at("clean"));
  EXPECT_EQ(all.at("results"), one.at("results"));
  EXPECT_EQ(all.at("clean"), one.at("clean"));
  // the noise did something (the comparison is not between copies of the clean figures)
  EXPECT_LT(row(one, "white", -10).at("accuracy").get<double>() +
                row(one, "pink", -10).at("accuracy").get<double>(),
            2.0);
}

// The same for a CNN (LibTorch's CPU forward, oneDNN's convolutions): a batch's examples must
// get the probabilities each gets alone, so batches cut anywhere (and those on the CPU, capped by
// their input's size) give the clean evaluate's metrics and the same noisy ones bit for bit.
TEST_F(Robustness, CnnBatchesOfAnySizeAreOneAtATime) {
  const auto path = dir_ / "cnn.toml";
  fs::write_text(path, "[experiment]\nname = \"cnn\"\nseed = 1\n\n[data]\ndataset = \"" +
                           (dir_ / "dataset.toml").string() +
                           "\"\ninput = \"log_mel\"\n\n[model]\ntype = \"cnn\"\n"
                           "channels = [8, 16]\n\n[train]\ndevice = \"cpu\"\nepochs = 1\n"
                           "batch_size = 4\nthreads = 1\nwarmup_epochs = 0\n\n[output]\ndir = \"" +
                           (dir_ / "runs" / "cnn").string() + "\"\n");
  const auto cnn = run_experiment({path, {}, false, 0}).run_dir;
  auto o = options({"white"}, {10, -10});
  o.run = cnn;
  o.batch_size = 1;
  const auto one = run_robustness(o);
  o.batch_size = 4;
  const auto four = run_robustness(o);
  o.batch_size = 1000;  // all 27 items in one batch (the CPU cap is 60 of these 64 x 101 inputs)
  const auto all = run_robustness(o);
  const auto shards = run_evaluate({cnn, "test", {}});
  for (const auto* j : {&one, &four, &all}) {
    EXPECT_EQ(j->at("max_clean_input_difference").get<double>(), 0.0);
    EXPECT_EQ(j->at("results").size(), 2u);
    EXPECT_EQ(j->at("clean").at("pitch").at("roc_auc"),
              shards.at("tasks").at("pitch").at("roc_auc"));
    EXPECT_EQ(j->at("clean").at("pitch").at("f1_macro"),
              shards.at("tasks").at("pitch").at("f1_macro"));
    EXPECT_EQ(j->at("results"), one.at("results"));
  }
  // the noise changed the probabilities (the comparison is not between copies of the clean)
  EXPECT_NE(row(one, "white", -10).at("roc_auc"), one.at("clean").at("pitch").at("roc_auc"));
}

TEST_F(Robustness, BadInputIsNamedBeforeAnyWork) {
  auto expect_error = [&](const RobustnessOptions& o, const std::string& part, bool config) {
    try {
      run_robustness(o);
      ADD_FAILURE() << "no error for " << part;
    } catch (const ConfigError& e) {
      EXPECT_TRUE(config) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    } catch (const InputError& e) {
      EXPECT_FALSE(config) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error(options({"white"}, {10, -30}), "--snr = -30: must be in [-20, 60] dB", true);
  expect_error(options({"white"}, {61}), "--snr = 61", true);
  expect_error(options({"brown"}, {10}), "noise kind 'brown'", true);
  std::filesystem::create_directories(dir_ / "empty");
  expect_error(options({"folder:" + (dir_ / "empty").string()}, {10}), "has no files", false);
  expect_error(options({"babble"}, {10}), "no task that says who speaks", false);
  // the sources moved: each named, and the key to fix
  std::filesystem::rename(dir_ / "audio", dir_ / "moved");
  expect_error(options({"white"}, {10}), "audio_root", false);
  try {
    run_robustness(options({"white"}, {10}));
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("of 3 test sources"), std::string::npos) << what;  // 12 files, a quarter
    EXPECT_NE(what.find((dir_ / "audio").string()), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(run_ / "robustness.json"));
}

}  // namespace
}  // namespace hptrain::train
