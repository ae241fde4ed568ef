// model.init: a run started from another run's weights has exactly that run's backbone (read
// here straight from its checkpoint's archive, not through the loader under test), its heads
// only when asked; a model of another shape, type or input is refused naming the parameter and
// both shapes, or the type and input.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"
#include "hptrain/train/init.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/synthetic.h"

namespace hptrain::train {
namespace {

using Classes = std::vector<std::pair<std::string, std::vector<std::string>>>;
const Classes kClasses = {{"scene", {"dialog", "action", "emotional"}}, {"music", {"no", "yes"}}};

// A tiny experiment on the synthetic shards; `model` is the [model] table's body.
std::filesystem::path write_experiment(const test::TempDir& dir, const std::string& name,
                                       const std::string& model,
                                       const std::string& input = "log_mel",
                                       const std::string& tasks = "") {
  const auto shards = dir / "shards";
  if (!std::filesystem::exists(shards)) test::write_synthetic_shards(shards);
  std::string text = "[experiment]\nname = \"" + name + "\"\nseed = 11\n" + tasks +
                     "\n[data]\nshards = \"" + shards.string() + "\"\ninput = \"" + input +
                     "\"\n[model]\n" + model +
                     "[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 16\nthreads = 1\n"
                     "warmup_epochs = 0\n[train.augment]\nenabled = false\n[output]\ndir = \"" +
                     (dir / "runs" / name).string() + "\"\n";
  const auto path = dir / (name + ".toml");
  fs::write_text(path, text);
  return path;
}

const std::string kCnn = "type = \"cnn\"\nchannels = [8, 16]\n";

// One tensor of a checkpoint, by the Net's dotted name: the file is LibTorch's archive followed by
// a 33-byte checksum trailer (trainer.cpp); the weights are under "model", one sub-archive per
// module level.
torch::Tensor checkpoint_tensor(const std::filesystem::path& file, const std::string& key) {
  const std::string bytes = fs::read_bytes(file);
  torch::serialize::InputArchive archive, level;
  archive.load_from(bytes.data(), bytes.size() - 33);
  archive.read("model", level);
  std::vector<std::string> path;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) path.push_back(part);
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    torch::serialize::InputArchive child;
    level.read(path[i], child);
    level = std::move(child);
  }
  torch::Tensor t;
  if (!level.try_read(path.back(), t, /*is_buffer=*/false)) level.read(path.back(), t, true);
  return t;
}

models::Net make_net(const ExperimentConfig& cfg, int64_t rows) {
  return models::Net(cfg.model, rows, std::vector<int64_t>{3, 2},
                     std::vector<std::string>{"scene", "music"});
}

std::string init_error(const ExperimentConfig& cfg, const Classes& classes, int64_t rows) {
  models::Net net = make_net(cfg, rows);
  try {
    init_from_run(cfg, classes, net);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

class Init : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    source_ = run_experiment({write_experiment(*dir_, "source", kCnn), {}, false, 0}).run_dir;
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
  static std::filesystem::path source_;
};
test::TempDir* Init::dir_ = nullptr;
std::filesystem::path Init::source_;

ExperimentConfig experiment(const test::TempDir& dir, const std::string& name,
                            const std::string& model, const std::string& input = "log_mel") {
  return load_experiment(write_experiment(dir, name, model, input));
}

TEST_F(Init, BackboneIsTheSourceRunsAndTheHeadsStayFresh) {
  const auto cfg = experiment(*dir_, "backbone", kCnn + "init = \"" + source_.string() + "\"\n");
  torch::manual_seed(3);
  models::Net net = make_net(cfg, 16);
  const auto head_before = net->named_parameters()["head0.weight"].clone();
  init_from_run(cfg, kClasses, net);
  int64_t body = 0;
  for (const auto& p : net->named_parameters()) {
    const auto ref = checkpoint_tensor(source_ / "model_best.pt", p.key());
    if (p.key().rfind("head", 0) == 0) {
      EXPECT_FALSE(torch::equal(p.value(), ref)) << p.key();
    } else {
      EXPECT_TRUE(torch::equal(p.value(), ref)) << p.key();
      ++body;
    }
  }
  EXPECT_GT(body, 6);
  for (const auto& b : net->named_buffers()) {  // normalisation and batch-norm statistics
    EXPECT_TRUE(torch::equal(b.value(), checkpoint_tensor(source_ / "model_best.pt", b.key())))
        << b.key();
  }
  EXPECT_TRUE(torch::equal(net->named_parameters()["head0.weight"], head_before));
}

TEST_F(Init, AllTakesTheHeadsToo) {
  const auto cfg = experiment(
      *dir_, "all", kCnn + "init = \"" + source_.string() + "\"\ninit_parts = [\"all\"]\n");
  models::Net net = make_net(cfg, 16);
  init_from_run(cfg, kClasses, net);
  for (const auto& p : net->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), checkpoint_tensor(source_ / "model_best.pt", p.key())))
        << p.key();
  }
  // the heads of other classes do not fit, whatever their shapes
  auto other = kClasses;
  other[1].second = {"yes", "no"};
  EXPECT_NE(init_error(cfg, other, 16).find("use init_parts = [\"backbone\"]"), std::string::npos)
      << init_error(cfg, other, 16);
}

TEST_F(Init, AnotherShapeNamesTheParameterAndBothShapes) {
  const auto cfg = experiment(
      *dir_, "wider", "type = \"cnn\"\nchannels = [8, 32]\ninit = \"" + source_.string() + "\"\n");
  const auto e = init_error(cfg, kClasses, 16);
  EXPECT_NE(e.find("model.init = '" + source_.string() + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("body.block1.0.weight: Float[16, 8, 3, 3] in run"), std::string::npos) << e;
  EXPECT_NE(e.find("Float[32, 8, 3, 3] in this experiment's model"), std::string::npos) << e;
  // other input rows (another n_mels): the normalisation's shape is named
  const auto rows = init_error(
      experiment(*dir_, "rows", kCnn + "init = \"" + source_.string() + "\"\n"), kClasses, 20);
  EXPECT_NE(rows.find("input_mean"), std::string::npos) << rows;
  EXPECT_NE(rows.find("[1, 16, 1]"), std::string::npos) << rows;
}

TEST_F(Init, AnotherModelTypeOrInputIsRefused) {
  const std::string init = "init = \"" + source_.string() + "\"\n";
  const auto lstm =
      experiment(*dir_, "lstm", "type = \"lstm\"\nhidden_size = 8\nnum_layers = 1\n" + init);
  EXPECT_NE(init_error(lstm, kClasses, 16)
                .find("that run is a cnn, this experiment's model is a "
                      "lstm"),
            std::string::npos)
      << init_error(lstm, kClasses, 16);
  const auto mfcc = experiment(*dir_, "mfcc", kCnn + init, "mfcc");
  EXPECT_NE(init_error(mfcc, kClasses, 12).find("data.input = \"log_mel\""), std::string::npos)
      << init_error(mfcc, kClasses, 12);
  const auto none =
      experiment(*dir_, "none", kCnn + "init = \"" + (*dir_ / "nowhere").string() + "\"\n");
  models::Net net = make_net(none, 16);
  EXPECT_THROW(init_from_run(none, kClasses, net), ConfigError);
}

TEST_F(Init, Ge2eWeightsLoadIntoTheBody) {
  const std::string small =
      "type = \"ge2e\"\nhidden_size = 16\nnum_layers = 3\nembedding_dim = 8\nweights = \"" +
      test::data_path("models/ge2e_small.pt").string() + "\"\n";
  const auto cfg = experiment(*dir_, "ge2e", small);
  models::Net net = make_net(cfg, 40);
  init_from_run(cfg, kClasses, net);
  const auto w = net->named_parameters()["body.linear.weight"];
  const auto bytes = fs::read_bytes(test::data_path("models/ge2e_small.pt"));
  const auto ref = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()))
                       .toGenericDict()
                       .at("linear.weight")
                       .toTensor();
  EXPECT_TRUE(torch::equal(w, ref));
  // the synthetic shards' 16 rows are not its 40 mel bands
  const auto e = init_error(cfg, kClasses, 16);
  EXPECT_NE(e.find("lstm.weight_ih_l0: [64, 40] in the file, [64, 16] in the model"),
            std::string::npos)
      << e;
  // weights are resemblyzer's: another type is told to use model.init
  EXPECT_THROW(load_experiment(write_experiment(*dir_, "cnnw", kCnn + "weights = \"x.pt\"\n")),
               ConfigError);
}

TEST_F(Init, TrainingStartsFromTheRunAndItsOwnFolderIsRefused) {
  // through run_experiment: the trainer calls init_from_run (a wrong type stops it there)
  const std::string init = "init = \"" + source_.string() + "\"\n";
  const auto fine = run_experiment({write_experiment(*dir_, "fine", kCnn + init), {}, false, 0});
  EXPECT_FALSE(fine.interrupted);
  EXPECT_THROW(
      run_experiment({write_experiment(*dir_, "bad", "type = \"lstm\"\nhidden_size = 8\n" + init),
                      {},
                      false,
                      0}),
      InputError);
  // its own output folder: refused before the run removes the weights it would start from
  const auto own = write_experiment(*dir_, "source", kCnn + init);
  EXPECT_THROW(load_experiment(own), ConfigError);
  EXPECT_TRUE(std::filesystem::exists(source_ / "model_best.pt"));
  EXPECT_THROW(
      load_experiment(write_experiment(*dir_, "parts", kCnn + init + "init_parts = [\"body\"]\n")),
      ConfigError);
}

}  // namespace
}  // namespace hptrain::train
