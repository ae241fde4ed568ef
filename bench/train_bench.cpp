// Training throughput (examples/s) of the CNN and the LSTM of experiments/{cnn,lstm}.toml: one
// optimiser step (forward, 3-task loss, backward, AdamW) on a [batch, rows, 301] batch on the CPU
// (scripts/compare_torch.py runs the same step in Python PyTorch; HP_THREADS sets the threads),
// and whole training runs of the program on synthetic shards of the demo's shapes, on the
// experiment's device (CUDA when there is one), with the fraction of time spent waiting for data.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "hptrain/fs.h"
#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"
#include "hptrain/train/run.h"
#include "train/synthetic.h"

namespace {

using namespace hptrain;

constexpr int64_t kFrames = 301;  // 3 s at hop 160, 16 kHz (the demo's log_mel and mfcc)
const std::vector<int64_t> kClasses = {7, 2, 3};  // character, music, scene of the demo

int threads() {
  const char* env = std::getenv("HP_THREADS");
  if (env != nullptr && std::atoi(env) > 0) return std::atoi(env);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void train_step(benchmark::State& state, const char* experiment) {
  torch::set_num_threads(threads());
  const auto cfg = train::load_experiment(std::filesystem::path(HP_SOURCE_DIR) / experiment);
  const int64_t rows = cfg.input == "log_mel" ? 64 : 60;  // n_mels, or 3 x n_mfcc
  const int64_t batch = cfg.train.batch_size;
  torch::manual_seed(0);
  models::Net net(cfg.model, rows, kClasses);
  net->train();
  torch::optim::AdamW optimizer(
      net->parameters(),
      torch::optim::AdamWOptions(cfg.train.lr).weight_decay(cfg.train.weight_decay));
  const auto x = torch::randn({batch, rows, kFrames});
  std::vector<torch::Tensor> y;
  for (int64_t k : kClasses) y.push_back(torch::randint(k, {batch}, torch::kLong));
  for (auto _ : state) {
    const auto logits = net->forward(x);
    auto loss = torch::zeros({});
    for (size_t t = 0; t < y.size(); ++t) {
      loss = loss + torch::nn::functional::cross_entropy(logits[t], y[t]);
    }
    loss = loss / static_cast<double>(y.size());
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = torch::get_num_threads();
  state.counters["batch"] = static_cast<double>(batch);
}

BENCHMARK_CAPTURE(train_step, cnn, "experiments/cnn.toml")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);
BENCHMARK_CAPTURE(train_step, lstm, "experiments/lstm.toml")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// The values of one column of log.csv, one per epoch.
std::vector<double> log_column(const std::filesystem::path& log, const std::string& column) {
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string h; std::getline(hs, h, ',');) header.push_back(h);
  const auto col = std::find(header.begin(), header.end(), column) - header.begin();
  std::vector<double> values;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::string v;
    for (int64_t i = 0; i <= col; ++i) std::getline(ls, v, ',');
    values.push_back(std::stod(v));
  }
  return values;
}

double mean_after_first(const std::vector<double>& v) {
  double sum = 0;
  for (size_t i = 1; i < v.size(); ++i) sum += v[i];
  return v.size() > 1 ? sum / static_cast<double>(v.size() - 1) : 0.0;
}

// Synthetic shards of the demo's shapes ([64, 301] log-mel, [60, 301] MFCC; the scene and music
// tasks): 1024 train, 256 validation and 256 test examples, written once per process into the
// temp folder and removed at exit.
std::filesystem::path bench_shards() {
  struct Shards {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "hptrain-bench-train";
    Shards() {
      std::error_code ec;
      fs::remove_tree(dir, ec);
      test::SyntheticSizes sizes;
      sizes.train = 1024;
      sizes.validation = 256;
      sizes.test = 256;
      sizes.frames = kFrames;
      sizes.log_mel_rows = 64;
      sizes.mfcc_rows = 60;
      test::write_synthetic_shards(dir / "shards", 7, sizes);
    }
    ~Shards() {
      std::error_code ec;
      fs::remove_tree(dir, ec);
    }
  };
  static const Shards shards;
  return shards.dir;
}

// `hptrain --experiment` for 3 epochs on bench_shards(), on HP_BENCH_DEVICE (default "auto":
// CUDA when there is one), with bf16 autocast or not (no effect on the CPU). The first epoch
// inflates the shards, later ones read the reader's memory cache: data_wait_first and
// data_wait_cached are the fractions of those epochs spent waiting for a batch on the device
// (the reader, then the copy).
void experiment(benchmark::State& state, const char* experiment, bool bf16) {
  const auto base = bench_shards();
  const auto path = std::filesystem::path(HP_SOURCE_DIR) / experiment;
  const auto cfg = train::load_experiment(path);
  const char* device = std::getenv("HP_BENCH_DEVICE");
  train::RunOptions opts;
  opts.experiment = path;
  opts.overrides = {"data.dataset=\"\"",
                    "data.shards=\"" + (base / "shards").string() + "\"",
                    "experiment.tasks=[\"scene\", \"music\"]",
                    "train.epochs=3",
                    "train.patience=0",
                    std::string("train.device=\"") + (device != nullptr ? device : "auto") + "\"",
                    std::string("train.mixed_precision=") + (bf16 ? "true" : "false"),
                    "output.dir=\"" + (base / "run").string() + "\""};
  std::vector<double> wait, speed;
  for (auto _ : state) {
    std::error_code ec;
    fs::remove_tree(base / "run", ec);
    const auto r = train::run_experiment(opts);
    benchmark::DoNotOptimize(r.metrics);
    wait = log_column(base / "run" / "log.csv", "data_wait");
    speed = log_column(base / "run" / "log.csv", "examples_per_s");
  }
  state.counters["train_ex_per_s"] = mean_after_first(speed);
  state.counters["data_wait_first"] = wait.at(0);
  state.counters["data_wait_cached"] = mean_after_first(wait);
  state.counters["batch"] = static_cast<double>(cfg.train.batch_size);
}

BENCHMARK_CAPTURE(experiment, cnn, "experiments/cnn.toml", false)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(experiment, cnn_bf16, "experiments/cnn.toml", true)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(experiment, lstm, "experiments/lstm.toml", false)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(experiment, lstm_bf16, "experiments/lstm.toml", true)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
