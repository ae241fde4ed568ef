// Experiment files: defaults, --set overrides, and errors that name file, line and key (and
// list the valid choices or keys).
#include <gtest/gtest.h>

#include <sstream>

#include <toml++/toml.h>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/train/experiment.h"
#include "support/support.h"

namespace hptrain::train {
namespace {

const char* kValid = R"([experiment]
name = "x"
seed = 3

[data]
dataset = "datasets/demo/dataset.toml"
input = "log_mel"

[model]
type = "cnn"
channels = [8, 16]

[train]
epochs = 4
)";

// The message of the ConfigError that loading `text` (plus overrides) throws; "" if none.
std::string error_of(const test::TempDir& dir, const std::string& text,
                     const std::vector<std::string>& overrides = {}) {
  fs::write_text(dir / "x.toml", text);
  try {
    load_experiment(dir / "x.toml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

using test::contains;

TEST(Experiment, ReadsKeysAndDefaults) {
  test::TempDir dir;
  fs::write_text(dir / "x.toml", kValid);
  const auto cfg = load_experiment(dir / "x.toml");
  EXPECT_EQ(cfg.name, "x");
  EXPECT_EQ(cfg.seed, 3u);
  EXPECT_EQ(cfg.model.channels, (std::vector<int>{8, 16}));
  EXPECT_EQ(cfg.train.epochs, 4);
  EXPECT_EQ(cfg.train.optimizer, "adamw");  // default
  EXPECT_EQ(cfg.output_dir, std::filesystem::path("runs/x"));
  EXPECT_TRUE(cfg.tasks.empty());
  EXPECT_FALSE(cfg.tabular());
  // the resolved copy reads back to the same configuration
  const auto again = parse_experiment(cfg.resolved, dir / "experiment.toml");
  EXPECT_EQ(again.model.channels, cfg.model.channels);
  EXPECT_EQ(again.train.epochs, 4);
}

// Every shipped experiment loads; cnn-noisy.toml extends cnn.toml (`base`) and differs from it
// only in its name, its output folder and [train.augment.noise].
TEST(Experiment, ShippedExperimentsLoadAndTheNoisyCnnExtendsTheCnn) {
  const auto folder = std::filesystem::path(HP_SOURCE_DIR) / "experiments";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (e.path().extension() != ".toml") continue;
    EXPECT_NO_THROW(load_experiment(e.path())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 10);
  const auto cnn = load_experiment(folder / "cnn.toml");
  const auto noisy = load_experiment(folder / "cnn-noisy.toml");
  EXPECT_EQ(noisy.name, "cnn-noisy");
  EXPECT_EQ(noisy.output_dir, std::filesystem::path("runs/cnn-noisy"));
  EXPECT_FALSE(cnn.train.augment.noise.enabled());
  EXPECT_EQ(noisy.train.augment.noise.kinds,
            (std::vector<std::string>{"babble", "music", "effects"}));
  // the rest as cnn.toml has it: the resolved copy with the three differences undone
  toml::table back = toml::parse(noisy.resolved);
  back["train"]["augment"].as_table()->erase("noise");
  back["experiment"].as_table()->insert_or_assign("name", "cnn");
  back["output"].as_table()->insert_or_assign("dir", "runs/cnn");
  std::ostringstream os;
  os << back;
  EXPECT_EQ(os.str() + "\n", cnn.resolved);
}

TEST(Experiment, OverridesApplyBeforeReading) {
  test::TempDir dir;
  fs::write_text(dir / "x.toml", kValid);
  const auto cfg = load_experiment(
      dir / "x.toml", {"train.epochs=2", "train.augment.noise_prob=0", "output.dir=\"elsewhere\""});
  EXPECT_EQ(cfg.train.epochs, 2);
  EXPECT_EQ(cfg.train.augment.noise_prob, 0.0);
  EXPECT_EQ(cfg.output_dir, std::filesystem::path("elsewhere"));
  EXPECT_TRUE(contains(cfg.resolved, "epochs = 2"));
}

TEST(Experiment, UnknownKeyNamesFileLineAndValidKeys) {
  test::TempDir dir;
  const auto e = error_of(dir, std::string(kValid) + "epoch = 5\n");
  EXPECT_TRUE(contains(e, "x.toml:15: train.epoch: unknown key")) << e;
  EXPECT_TRUE(contains(e, "epochs")) << e;  // listed among the valid keys
  const auto o = error_of(dir, kValid, {"train.learning_rate=0.1"});
  EXPECT_TRUE(contains(o, "train.learning_rate: unknown key")) << o;
}

TEST(Experiment, WrongTypeNamesLineAndExpectedType) {
  test::TempDir dir;
  std::string text = kValid;
  text.replace(text.find("epochs = 4"), 10, "epochs = \"4\"");
  const auto e = error_of(dir, text);
  EXPECT_TRUE(contains(e, "x.toml:14: train.epochs: expected an integer, got string")) << e;
}

TEST(Experiment, OutOfRangeAndBadChoices) {
  test::TempDir dir;
  auto e = error_of(dir, kValid, {"train.epochs=0"});
  EXPECT_TRUE(contains(e, "train.epochs: must be >= 1")) << e;
  e = error_of(dir, kValid, {"train.optimizer=\"lbfgs\""});
  EXPECT_TRUE(contains(e, "train.optimizer: 'lbfgs' is not one of: adam, adamw, sgd")) << e;
  e = error_of(dir, kValid, {"train.device=\"gpu\""});
  EXPECT_TRUE(contains(e, "train.device: 'gpu' is not one of: auto, cpu, cuda, cuda:N")) << e;
  e = error_of(dir, kValid, {"model.type=\"resnet\""});
  EXPECT_TRUE(contains(e,
                       "model.type: 'resnet' is not one of: cnn, lstm, ecapa, ge2e, torchscript, "
                       "transformer, pretrained, svm, rf"))
      << e;
  std::string text = kValid;
  text.replace(text.find("[8, 16]"), 7, "[8, 0]");
  e = error_of(dir, text);
  EXPECT_TRUE(contains(e, "x.toml:11: model.channels: every entry must be > 0")) << e;
  e = error_of(dir, kValid, {"data.input=\"spectrogram\""});
  EXPECT_TRUE(
      contains(e, "data.input: 'spectrogram' is not one of: log_mel, mfcc, stats, waveform"))
      << e;
  e = error_of(dir, kValid, {"train.augment.noise_snr_db=[30.0, 10.0]"});
  EXPECT_TRUE(contains(e, "train.augment.noise_snr_db: expected [min, max]")) << e;
}

TEST(Experiment, InputMustSuitTheModel) {
  test::TempDir dir;
  auto e = error_of(dir, kValid, {"data.input=\"stats\""});
  EXPECT_TRUE(contains(e, "data.input: model.type = \"cnn\" needs")) << e;
  // noise and mixing need a dB spectrogram
  e = error_of(dir, kValid, {"data.input=\"mfcc\"", "train.augment.noise_prob=0.5"});
  EXPECT_TRUE(contains(e, "train.augment.noise_prob: needs data.input = \"log_mel\"")) << e;
  e = error_of(dir, kValid, {"data.shards=\"somewhere\""});
  EXPECT_TRUE(contains(e, "give exactly one of dataset")) << e;
}

TEST(Experiment, LstmKeysAreCheckedOnlyForLstm) {
  test::TempDir dir;
  auto e = error_of(dir, kValid, {"model.hidden_size=32"});  // a CNN has no hidden_size
  EXPECT_TRUE(contains(e, "model.hidden_size: unknown key")) << e;
  const std::string lstm = R"([data]
dataset = "d.toml"
input = "mfcc"
[model]
type = "lstm"
hidden_size = 0
)";
  e = error_of(dir, lstm);
  EXPECT_TRUE(contains(e, "x.toml:6: model.hidden_size: must be > 0")) << e;
}

TEST(Experiment, BaselineKeysGoToTheBaselines) {
  test::TempDir dir;
  const std::string svm = R"([data]
dataset = "d.toml"
input = "stats"
[model]
type = "svm"
C = 2.0
)";
  fs::write_text(dir / "x.toml", svm);
  const auto cfg = load_experiment(dir / "x.toml");
  EXPECT_TRUE(cfg.tabular());
  EXPECT_EQ(cfg.name, "x");  // the file's stem
  auto e = error_of(dir, svm + "channels = [1]\n");
  EXPECT_TRUE(contains(e, "model.channels: unknown key")) << e;
  e = error_of(dir, svm + "[train]\nepochs = 3\n");  // SVM/RF: only [train.augment.noise]
  EXPECT_TRUE(contains(e,
                       "x.toml:8: train.epochs: unknown key; SVM/RF read only "
                       "[train.augment.noise]"))
      << e;
}

}  // namespace
}  // namespace hptrain::train
