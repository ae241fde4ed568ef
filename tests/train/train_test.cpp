// Short CPU training runs on synthetic shards: the CNN and the LSTM learn the tasks to a stated
// accuracy, the same seed gives the same metrics, an interrupted run resumed from its checkpoint
// ends exactly as an uninterrupted one, and evaluate/report read the run folder.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <algorithm>
#include <sstream>

#include "hptrain/csv.h"
#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/synthetic.h"

namespace hptrain::train {
namespace {

// The experiment files of these tests: tiny models, a few epochs on the synthetic shards.
std::filesystem::path write_experiment(const test::TempDir& dir, const std::string& name,
                                       const std::string& model, const std::string& extra = "") {
  const auto shards = dir / "shards";
  if (!std::filesystem::exists(shards)) test::write_synthetic_shards(shards);
  std::string text = "[experiment]\nname = \"" + name + "\"\nseed = 11\n\n[data]\nshards = \"" +
                     shards.string() + "\"\n";
  if (model == "cnn") {
    text += "input = \"log_mel\"\n[model]\ntype = \"cnn\"\nchannels = [8, 16]\ndropout = 0.1\n";
  } else if (model == "lstm") {
    text += "input = \"mfcc\"\n[model]\ntype = \"lstm\"\nhidden_size = 16\nnum_layers = 1\n";
  } else if (model == "ecapa") {  // the margin head on scene, a linear one on music
    text += "input = \"log_mel\"\n[model]\ntype = \"ecapa\"\nchannels = [16, 16, 16, 16, 48]\n";
    text += "res2net_scale = 4\nse_channels = 8\nattention_channels = 8\nembedding_dim = 16\n";
    text += "dropout = 0.1\nloss = \"aam\"\nloss_task = \"scene\"\n";
  } else {
    text += "input = \"stats\"\n[model]\ntype = \"" + model + "\"\n";
  }
  if (model == "cnn" || model == "lstm" || model == "ecapa") {
    text += "[train]\ndevice = \"cpu\"\nepochs = 6\nbatch_size = 16\nlr = 0.005\nthreads = 2\n";
    text += "warmup_epochs = 0\npatience = 0\n";
    // masks sized for 24 frames; noise and mixing on the spectrogram only
    text += "[train.augment]\nfreq_mask_width = 2\ntime_mask_width = 4\n";
    text +=
        model == "lstm" ? "noise_prob = 0.0\nmix_prob = 0.0\n" : "noise_snr_db = [20.0, 30.0]\n";
  }
  text += extra + "[output]\ndir = \"" + (dir / "runs" / name).string() + "\"\n";
  const auto path = dir / (name + ".toml");
  fs::write_text(path, text);
  return path;
}

double accuracy(const nlohmann::json& metrics, const std::string& task) {
  return metrics.at("tasks").at(task).at("accuracy").get<double>();
}

// A run's predictions.csv against the split's shards and the metrics written beside it: one row
// per example in the split's order with its source, offset and true class; the predicted class
// the highest of the row's probabilities, which sum to 1; its confusion matrix the metrics'.
void expect_predictions_match(const std::filesystem::path& csv, const nlohmann::json& metrics,
                              const data::ShardDataset& ds) {
  const auto rows = parse_csv(fs::read_text(csv), csv.string());
  ASSERT_EQ(rows.size(), static_cast<size_t>(ds.size()) + 1) << csv;
  const auto& header = rows[0].fields;
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<size_t>(it - header.begin());
  };
  EXPECT_EQ(header.at(0), "source");
  EXPECT_EQ(header.at(1), "offset_s");
  for (const auto& [task, m] : metrics.at("tasks").items()) {
    const auto& classes = ds.classes(task);
    const size_t truth = column(task + "_true"), predicted = column(task);
    const size_t first = column(task + ":" + classes.front());
    std::vector<std::vector<int64_t>> confusion(classes.size(),
                                                std::vector<int64_t>(classes.size(), 0));
    for (size_t i = 1; i < rows.size(); ++i) {
      const auto& f = rows[i].fields;
      const auto e = i - 1;
      EXPECT_EQ(f.at(0), ds.sources()[e]);
      EXPECT_NEAR(std::stod(f.at(1)), ds.offsets()[e], 5e-4);
      EXPECT_EQ(f.at(truth), classes[static_cast<size_t>(ds.labels(task)[e])]);
      double sum = 0, best = -1;
      size_t argmax = 0;
      for (size_t c = 0; c < classes.size(); ++c) {
        const double p = std::stod(f.at(first + c));
        sum += p;
        if (p > best) best = p, argmax = c;
      }
      EXPECT_NEAR(sum, 1.0, 1e-4) << csv << " row " << i;
      EXPECT_EQ(f.at(predicted), classes[argmax]) << csv << " row " << i;
      const auto index = [&](const std::string& name) {
        return static_cast<size_t>(std::find(classes.begin(), classes.end(), name) -
                                   classes.begin());
      };
      ++confusion.at(index(f.at(truth))).at(index(f.at(predicted)));
    }
    EXPECT_EQ(nlohmann::json(confusion), m.at("confusion").at("matrix")) << task;
  }
}

// Stated accuracy on the synthetic test split after 6 epochs (chance: 1/3 and 1/2).
constexpr double kSceneAccuracy = 0.9;
constexpr double kMusicAccuracy = 0.9;

TEST(Train, CnnLearnsTheSyntheticTasksAndWritesTheRunFolder) {
  test::TempDir dir;
  const auto r = run_experiment({write_experiment(dir, "cnn", "cnn"), {}, false, 0});
  ASSERT_FALSE(r.interrupted);
  EXPECT_GE(accuracy(r.metrics, "scene"), kSceneAccuracy) << r.metrics.dump(1);
  EXPECT_GE(accuracy(r.metrics, "music"), kMusicAccuracy) << r.metrics.dump(1);
  EXPECT_EQ(r.metrics.at("split"), "test");
  EXPECT_EQ(r.metrics.at("tasks").at("scene").at("confusion").at("classes"),
            nlohmann::json({"dialog", "action", "emotional"}));
  const auto d = r.run_dir;
  for (const char* f :
       {"metrics.json", "experiment.toml", "classes.json", "log.csv", "checkpoint_last.pt",
        "model_best.pt", "confusion_scene.csv", "roc_music.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(d / f)) << f;
  }
  for (const char* f : {"confusion_scene.png", "roc_music.png", "training_curves.png"}) {
    EXPECT_EQ(std::filesystem::exists(d / f), metrics::gnuplot_available()) << f;
  }
  const auto log = fs::read_text(d / "log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 7) << log;  // header + 6 epochs
  EXPECT_EQ(log.rfind("epoch,lr,train_loss,val_loss,val_f1_macro,val_accuracy_scene,", 0), 0u);

  // evaluate: the test split again gives the same numbers; another split its own folder
  const auto again = run_evaluate({d, "test", {}});
  EXPECT_EQ(again.at("tasks"), r.metrics.at("tasks"));
  // one example per batch: the same predictions (eval mode: batch norm uses its running stats)
  EvaluateOptions one{d, "test", {}};
  one.batch_size = 1;
  const auto single = run_evaluate(one);
  for (const char* task : {"scene", "music"}) {
    const auto &a = single.at("tasks").at(task), &b = r.metrics.at("tasks").at(task);
    EXPECT_EQ(a.at("confusion"), b.at("confusion")) << task;
    EXPECT_NEAR(a.at("roc_auc").get<double>(), b.at("roc_auc").get<double>(), 1e-6) << task;
  }
  one.batch_size = -1;
  EXPECT_THROW(run_evaluate(one), ConfigError);
  const auto val = run_evaluate({d, "validation", {}});
  EXPECT_EQ(val.at("split"), "validation");
  EXPECT_TRUE(std::filesystem::exists(d / "eval-validation" / "metrics.json"));
  expect_predictions_match(d / "predictions.csv", r.metrics,
                           data::ShardDataset(dir / "shards", "test"));
  expect_predictions_match(d / "eval-validation" / "predictions.csv", val,
                           data::ShardDataset(dir / "shards", "validation"));

  // report: one row per task
  const auto table = run_report({dir / "runs", dir / "report.md"});
  EXPECT_NE(table.find("| cnn | cnn | music |"), std::string::npos) << table;
  EXPECT_NE(table.find("| cnn | cnn | scene |"), std::string::npos) << table;
  const auto csv = fs::read_text(dir / "report.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
  // the same pair whichever way the file is named
  for (const char* name : {"plain", "named.csv"}) {
    run_report({dir / "runs", dir / name});
    const auto base = (dir / name).replace_extension();
    EXPECT_EQ(fs::read_text(base.string() + ".md"), table) << name;
    EXPECT_EQ(fs::read_text(base.string() + ".csv"), csv) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "plain")) << "no file without the extension";
}

TEST(Train, LstmLearnsTheSyntheticTasks) {
  test::TempDir dir;
  const auto r = run_experiment({write_experiment(dir, "lstm", "lstm"), {}, false, 0});
  EXPECT_GE(accuracy(r.metrics, "scene"), kSceneAccuracy) << r.metrics.dump(1);
  EXPECT_GE(accuracy(r.metrics, "music"), kMusicAccuracy) << r.metrics.dump(1);
}

// The same learning on CUDA in float32 and with bf16 autocast, CNN (cuDNN convolutions,
// autotuned), LSTM (cuDNN RNN) and ECAPA (its margin head in float32); skipped where LibTorch sees
// no CUDA device.
TEST(Train, CudaLearnsTheSyntheticTasksWithAndWithoutBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch sees no CUDA device";
  for (const char* model : {"cnn", "lstm", "ecapa"}) {
    for (const char* bf16 : {"false", "true"}) {
      SCOPED_TRACE(std::string(model) + " mixed_precision=" + bf16);
      test::TempDir dir;
      const auto r =
          run_experiment({write_experiment(dir, model, model),
                          {"train.device=\"cuda\"", std::string("train.mixed_precision=") + bf16},
                          false,
                          0});
      EXPECT_GE(accuracy(r.metrics, "scene"), kSceneAccuracy) << r.metrics.dump(1);
      EXPECT_GE(accuracy(r.metrics, "music"), kMusicAccuracy) << r.metrics.dump(1);
      EXPECT_NE(r.metrics.at("device").get<std::string>().find("cuda"), std::string::npos)
          << r.metrics.at("device");
    }
  }
}

// ECAPA with the additive angular margin head through the same loop: it learns, evaluate gives
// the same numbers from the saved best model (s * cos probabilities), and an interrupted run
// resumed ends exactly as an uninterrupted one.
TEST(Train, EcapaWithAMarginHeadLearnsAndResumes) {
  test::TempDir dir;
  // 8 epochs: at 6 its music (a linear head on a 16-value embedding) was at 0.896. One thread:
  // its many small convolutions wait at every parallel region's barrier on a busy machine.
  const auto r = run_experiment(
      {write_experiment(dir, "ecapa", "ecapa"), {"train.epochs=8", "train.threads=1"}, false, 0});
  ASSERT_FALSE(r.interrupted);
  EXPECT_GE(accuracy(r.metrics, "scene"), kSceneAccuracy) << r.metrics.dump(1);
  EXPECT_GE(accuracy(r.metrics, "music"), kMusicAccuracy) << r.metrics.dump(1);
  EXPECT_EQ(run_evaluate({r.run_dir, "test", {}}).at("tasks"), r.metrics.at("tasks"));

  const std::vector<std::string> set = {"train.epochs=2", "train.threads=1"};
  const auto whole = run_experiment({write_experiment(dir, "whole", "ecapa"), set, false, 0});
  const auto cut = write_experiment(dir, "cut", "ecapa");
  ASSERT_TRUE(run_experiment({cut, set, false, 18}).interrupted);  // 12 steps per epoch
  const auto resumed = run_experiment({cut, set, true, 0});
  EXPECT_EQ(resumed.metrics.at("tasks"), whole.metrics.at("tasks"));
  EXPECT_EQ(resumed.metrics.at("test_loss"), whole.metrics.at("test_loss"));
}

TEST(Train, SameSeedGivesTheSameMetrics) {
  test::TempDir dir;
  const auto a = run_experiment({write_experiment(dir, "a", "cnn"), {"train.epochs=2"}, false, 0});
  const auto b = run_experiment({write_experiment(dir, "b", "cnn"), {"train.epochs=2"}, false, 0});
  EXPECT_EQ(a.metrics.at("tasks"), b.metrics.at("tasks"));
  EXPECT_EQ(a.metrics.at("test_loss"), b.metrics.at("test_loss"));
}

TEST(Train, ResumeAfterAnInterruptionEqualsAnUninterruptedRun) {
  test::TempDir dir;
  const std::vector<std::string> set = {"train.epochs=3", "train.warmup_epochs=1"};
  const auto whole = run_experiment({write_experiment(dir, "whole", "cnn"), set, false, 0});
  const auto cut = write_experiment(dir, "cut", "cnn");
  // 192 examples / 16 = 12 steps per epoch: stop in the middle of the second epoch
  const auto first = run_experiment({cut, set, false, 18});
  ASSERT_TRUE(first.interrupted);
  EXPECT_FALSE(std::filesystem::exists(first.run_dir / "metrics.json"));
  const auto log = fs::read_text(first.run_dir / "log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;  // header + epoch 1
  const auto resumed = run_experiment({cut, set, true, 0});
  ASSERT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.metrics.at("tasks"), whole.metrics.at("tasks"));
  EXPECT_EQ(resumed.metrics.at("test_loss"), whole.metrics.at("test_loss"));
  // the per-epoch validation losses agree too (epoch times do not)
  auto column = [](const std::string& csv, size_t col) {
    std::vector<std::string> out;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string f;
      for (size_t i = 0; i <= col; ++i) std::getline(fields, f, ',');
      out.push_back(f);
    }
    return out;
  };
  EXPECT_EQ(column(fs::read_text(resumed.run_dir / "log.csv"), 3),
            column(fs::read_text(whole.run_dir / "log.csv"), 3));
}

TEST(Train, ResumeWithoutACheckpointIsAnError) {
  test::TempDir dir;
  EXPECT_THROW(run_experiment({write_experiment(dir, "none", "cnn"), {}, true, 0}), InputError);
}

TEST(Train, UnknownTaskNamesTheKey) {
  test::TempDir dir;
  try {
    run_experiment(
        {write_experiment(dir, "t", "cnn"), {"experiment.tasks=[\"speaker\"]"}, false, 0});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("experiment.tasks: 'speaker' is not a task of the "
                                         "dataset (tasks: scene, music)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Train, RandomForestOnStatsUsesTheSameFiles) {
  test::TempDir dir;
  const auto r = run_experiment(
      {write_experiment(dir, "rf", "rf", "n_estimators = 30\nseed = 1\n"), {}, false, 0});
  EXPECT_GE(accuracy(r.metrics, "scene"), kSceneAccuracy) << r.metrics.dump(1);
  EXPECT_TRUE(std::filesystem::exists(r.run_dir / "model_scene.h5"));
  EXPECT_TRUE(std::filesystem::exists(r.run_dir / "confusion_music.csv"));
  const auto again = run_evaluate({r.run_dir, "test", {}});
  EXPECT_EQ(again.at("tasks"), r.metrics.at("tasks"));
  expect_predictions_match(r.run_dir / "predictions.csv", r.metrics,
                           data::ShardDataset(dir / "shards", "test"));
}

}  // namespace
}  // namespace hptrain::train
