// Training throughput (examples/s) of the CNN and the LSTM of experiments/{cnn,lstm}.toml on the
// CPU: one optimiser step (forward, 3-task loss, backward, AdamW) on a [batch, rows, 301] batch.
// scripts/compare_torch.py runs the same step in Python PyTorch. HP_THREADS sets the threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"

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

}  // namespace

BENCHMARK_MAIN();
