// [train.augment.noise] on the tone corpus: the training split gains one noisy copy per chosen
// chunk (same source, offset and labels; other inputs), validation and test stay the prepared
// ones, the choice is deterministic and the folder is reused; a forest trains on it; bad keys
// name file, line and key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/train/experiment.h"
#include "hptrain/train/noise_augment.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::train {
namespace {

class NoiseAugment : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tone_corpus(dir_.path()); }

  std::filesystem::path experiment(const std::string& name, const std::string& noise,
                                   const std::string& dataset = "dataset.toml") {
    const auto path = dir_ / (name + ".toml");
    fs::write_text(path, "[experiment]\nname = \"" + name + "\"\nseed = 1\n\n[data]\ndataset = \"" +
                             (dir_ / dataset).string() +
                             "\"\ninput = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n"
                             "\n[train.augment.noise]\n" +
                             noise + "\n[output]\ndir = \"" + (dir_ / "runs" / name).string() +
                             "\"\n");
    return path;
  }

  test::TempDir dir_;
};

TEST_F(NoiseAugment, EachChosenChunkGetsOneNoisyCopyWithItsLabels) {
  const auto cfg = load_experiment(
      experiment("all", "kinds = [\"white\"]\nsnr_db = [0.0, 0.0]\nprobability = 1.0\n"));
  const auto shards = cfg.prepare_data();
  const auto noisy = noisy_training_shards(cfg, shards);
  EXPECT_EQ(noisy, cfg.output_dir / "noisy-shards");
  const data::ShardDataset clean(shards, "train"), both(noisy, "train");
  ASSERT_EQ(both.size(), 2 * clean.size());
  // the copies follow the originals (same source, offset, label), with inputs changed by 0 dB
  // of white noise
  std::map<std::pair<std::string, long long>, int64_t> original;
  for (int64_t i = 0; i < clean.size(); ++i) {
    original[{clean.sources()[i], std::llround(clean.offsets()[i] * 1000)}] = i;
  }
  for (int64_t i = clean.size(); i < both.size(); ++i) {
    const auto it = original.find({both.sources()[i], std::llround(both.offsets()[i] * 1000)});
    ASSERT_NE(it, original.end()) << i;
    EXPECT_EQ(both.labels("pitch")[i], clean.labels("pitch")[it->second]) << i;
    const auto a = clean.get({it->second}, data::Input::stats).x;
    const auto b = both.get({i}, data::Input::stats).x;
    double diff = 0;
    for (size_t k = 0; k < a.size(); ++k) diff = std::max(diff, std::abs(double(a[k]) - b[k]));
    EXPECT_GT(diff, 1e-3) << i;
  }
  for (const char* split : {"validation", "test"}) {
    EXPECT_EQ(data::ShardDataset(noisy, split).size(), data::ShardDataset(shards, split).size());
  }
  // reused while nothing changed
  const auto stamp = std::filesystem::last_write_time(noisy / "prepared.json");
  EXPECT_EQ(noisy_training_shards(cfg, shards), noisy);
  EXPECT_EQ(std::filesystem::last_write_time(noisy / "prepared.json"), stamp);
}

TEST_F(NoiseAugment, ProbabilityChoosesDeterministicallyAndTrainingUsesTheCopies) {
  const auto path = experiment(
      "half", "kinds = [\"pink\", \"white\"]\nsnr_db = [5.0, 15.0]\nprobability = 0.5\n");
  const auto r = run_experiment({path, {}, false, 0});
  const auto noisy = r.run_dir / "noisy-shards";
  const auto j = nlohmann::json::parse(fs::read_text(noisy / "prepared.json"));
  const int64_t copies = j.at("noise_copies").get<int64_t>();
  EXPECT_GT(copies, 0);
  EXPECT_LT(copies, 18);  // 18 training chunks, each with probability one half
  EXPECT_EQ(data::ShardDataset(noisy, "train").size(), 18 + copies);
  // another folder, the same experiment: the same copies
  const auto cfg = load_experiment(path, {"output.dir=\"" + (dir_ / "again").string() + "\""});
  const auto again = noisy_training_shards(cfg, cfg.prepare_data());
  const data::ShardDataset a(noisy, "train"), b(again, "train");
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.get({a.size() - 1}, data::Input::stats).x,
            b.get({b.size() - 1}, data::Input::stats).x);
  EXPECT_FALSE(r.metrics.empty());
  // off: the prepared shards themselves
  const auto off = load_experiment(experiment("off", "kinds = []\n"));
  EXPECT_EQ(noisy_training_shards(off, off.prepare_data()), off.prepare_data());
}

// copies = 3: three copies of every chosen chunk, each with its own noise, the labels of the
// chunk; the first is the copy that copies = 1 makes (the same draws), so earlier runs' folders
// and figures hold; and the copies do not depend on how many chunks are mixed at a time.
TEST_F(NoiseAugment, CopiesGiveEachChunkSeveralDifferentNoisyCopies) {
  const std::string noise =
      "kinds = [\"white\", \"pink\"]\nsnr_db = [0.0, 10.0]\nprobability = 1.0\n";
  const auto one = load_experiment(experiment("one", noise));
  const auto three = load_experiment(experiment("three", noise + "copies = 3\n"));
  EXPECT_EQ(three.train.augment.noise.copies, 3);
  const auto shards = one.prepare_data();
  const data::ShardDataset clean(shards, "train");
  const data::ShardDataset a(noisy_training_shards(one, shards), "train");
  const data::ShardDataset b(noisy_training_shards(three, shards), "train");
  ASSERT_EQ(a.size(), 2 * clean.size());
  ASSERT_EQ(b.size(), 4 * clean.size());
  const auto stamp =
      nlohmann::json::parse(fs::read_text(three.output_dir / "noisy-shards/noise.json"));
  EXPECT_EQ(stamp.at("copies").get<int>(), 3);
  EXPECT_FALSE(nlohmann::json::parse(fs::read_text(one.output_dir / "noisy-shards/noise.json"))
                   .contains("copies"));
  // each chunk's copies: its labels, three different inputs, the first equal to copies = 1's
  std::map<std::pair<std::string, long long>, std::vector<int64_t>> of_chunk;
  for (int64_t i = clean.size(); i < b.size(); ++i) {
    of_chunk[{b.sources()[i], std::llround(b.offsets()[i] * 1000)}].push_back(i);
  }
  std::map<std::pair<std::string, long long>, int64_t> single;
  for (int64_t i = clean.size(); i < a.size(); ++i) {
    single[{a.sources()[i], std::llround(a.offsets()[i] * 1000)}] = i;
  }
  ASSERT_EQ(of_chunk.size(), static_cast<size_t>(clean.size()));
  for (const auto& [chunk, rows] : of_chunk) {
    ASSERT_EQ(rows.size(), 3u);
    const auto x0 = b.get({rows[0]}, data::Input::stats).x;
    const auto x1 = b.get({rows[1]}, data::Input::stats).x;
    const auto x2 = b.get({rows[2]}, data::Input::stats).x;
    EXPECT_NE(x0, x1);
    EXPECT_NE(x1, x2);
    EXPECT_NE(x0, x2);
    EXPECT_EQ(x0, a.get({single.at(chunk)}, data::Input::stats).x);
    for (int64_t r : rows) EXPECT_EQ(b.labels("pitch")[r], a.labels("pitch")[single.at(chunk)]);
  }
  // mixed and extracted two chunks at a time (a long source's memory bound): the same rows
  fs::write_text(dir_ / "batch2.toml", "base = \"dataset.toml\"\nfeature_batch = 2\n");
  const auto small = load_experiment(experiment("small", noise + "copies = 3\n", "batch2.toml"));
  const data::ShardDataset c(noisy_training_shards(small, small.prepare_data()), "train");
  ASSERT_EQ(c.size(), b.size());
  for (int64_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(c.sources()[i], b.sources()[i]) << i;
    EXPECT_EQ(c.offsets()[i], b.offsets()[i]) << i;
    EXPECT_EQ(c.get({i}, data::Input::stats).x, b.get({i}, data::Input::stats).x) << i;
  }
}

TEST_F(NoiseAugment, BadKeysNameFileLineAndKey) {
  for (const auto& [text, part] : std::vector<std::pair<std::string, std::string>>{
           {"kinds = [\"brown\"]\n", "train.augment.noise.kinds"},
           {"kinds = [\"white\"]\nsnr_db = [-30.0, 0.0]\n", "train.augment.noise.snr_db"},
           {"kinds = [\"white\"]\nprobability = 2.0\n", "train.augment.noise.probability"},
           {"kinds = [\"white\"]\ncopies = 0\n", "train.augment.noise.copies"},
           {"kinds = [\"white\"]\nloudness = 1\n", "loudness"}}) {
    try {
      load_experiment(experiment("bad", text));
      ADD_FAILURE() << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace hptrain::train
