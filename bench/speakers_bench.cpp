// Speaker embeddings (speakers::Embedder): windows of 1.5 s every 0.75 s through the features
// and the model, as `hptrain embed` runs them. The models are experiments/cnn.toml's and
// experiments/ecapa.toml's [model] (trained one epoch on the tests' tone corpus: the speed does
// not depend on the weights). Counter `x_realtime`: seconds of audio embedded per second of
// wall-clock time (UseRealTime: LibTorch's intra-op threads do not count in this thread's CPU
// time).
//   build-test/bench/bench_speakers --benchmark_min_time=5
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/speakers/embed.h"
#include "speakers/speaker_runs.h"

namespace {

using namespace hptrain;

constexpr double kSeconds = 120;  // audio per iteration

const std::string kCnnModel =
    "input = \"log_mel\"\n\n[model]\ntype = \"cnn\"\nchannels = [8, 16, 32, 64]\n"
    "time_pooling = \"mean_std\"\n\n[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 8\n"
    "warmup_epochs = 0\n";
const std::string kEcapaModel =
    "input = \"log_mel\"\n\n[model]\ntype = \"ecapa\"\nchannels = [64, 64, 64, 64, 192]\n"
    "res2net_scale = 8\nse_channels = 32\nattention_channels = 32\nembedding_dim = 96\n"
    "loss_task = \"pitch\"\n\n[train]\ndevice = \"cpu\"\nepochs = 1\nbatch_size = 8\n"
    "warmup_epochs = 0\n";

struct Fixture {
  std::filesystem::path dir, cnn, ecapa, film;
  std::vector<float> audio;
  Fixture()
      : dir(std::filesystem::temp_directory_path() /
            ("hptrain-bench-speakers-" + std::to_string(::getpid()))) {
    log::init("warn");
    test::write_tone_corpus(dir);
    cnn = test::train_tone_run(dir, "cnn", kCnnModel);
    ecapa = test::train_tone_run(dir, "ecapa", kEcapaModel);
    // speech-like: noise shaped by a slow envelope, plus a gliding tone
    std::mt19937 rng(1);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    audio.resize(static_cast<size_t>(kSeconds * 16000));
    for (size_t n = 0; n < audio.size(); ++n) {
      const double t = static_cast<double>(n) / 16000;
      const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 3 * t);
      audio[n] = static_cast<float>(
          env * (noise(rng) + 0.1 * std::sin(2 * M_PI * (200 + 50 * std::sin(t)) * t)));
    }
    film = dir / "film120.wav";
    io::write_wav(film, audio.data(), audio.size(), 16000);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_tree(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

speakers::EmbedOptions options(int64_t batch) {
  speakers::EmbedOptions o;
  o.device = "cpu";
  o.threads = 2;
  o.batch_size = batch;
  return o;
}

void report(benchmark::State& state, int64_t windows) {
  state.counters["x_realtime"] = benchmark::Counter(
      kSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["windows"] = static_cast<double>(windows);
}

// In-memory samples (what diarization hands over): features + model.
void BM_EmbedSamples(benchmark::State& state, const std::filesystem::path& (*run)()) {
  auto& f = fixture();
  speakers::Embedder emb(run(), options(state.range(0)));
  int64_t windows = 0;
  for (auto _ : state) {
    const auto e = emb.embed(f.audio.data(), f.audio.size());
    windows = e.size();
    benchmark::DoNotOptimize(e.data.data());
  }
  report(state, windows);
}

// A file (hptrain embed): decode, loudness analysis pass, then the windows.
void BM_EmbedFile(benchmark::State& state, const std::filesystem::path& (*run)()) {
  auto& f = fixture();
  speakers::Embedder emb(run(), options(state.range(0)));
  int64_t windows = 0;
  for (auto _ : state) {
    const auto e = emb.embed_file(f.film);
    windows = e.size();
    benchmark::DoNotOptimize(e.data.data());
  }
  report(state, windows);
}

// The features alone (log-mel of the "speech" preset, CPU threads), for the same windows: the
// part of BM_EmbedSamples that is not the model.
void BM_WindowFeatures(benchmark::State& state) {
  auto& f = fixture();
  const auto dataset = data::load_dataset_config(f.dir / "dataset.toml");
  const int64_t len = 24000, hop = 12000;
  std::vector<float> windows;
  int64_t n = 0;
  for (int64_t s = 0; s + len <= static_cast<int64_t>(f.audio.size()); s += hop, ++n) {
    windows.insert(windows.end(), f.audio.begin() + s, f.audio.begin() + s + len);
  }
  for (auto _ : state) {
    auto fs = features::extract(dataset.features, windows.data(), n, len,
                                data::input_features(data::Input::log_mel));
    benchmark::DoNotOptimize(fs.log_mel.data.data());
  }
  report(state, n);
}

const std::filesystem::path& cnn_run() {
  return fixture().cnn;
}
const std::filesystem::path& ecapa_run() {
  return fixture().ecapa;
}

BENCHMARK_CAPTURE(BM_EmbedSamples, cnn, cnn_run)
    ->Arg(64)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EmbedFile, cnn, cnn_run)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WindowFeatures)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EmbedSamples, ecapa, ecapa_run)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
