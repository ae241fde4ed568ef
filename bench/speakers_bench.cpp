// Speaker embeddings (speakers::Embedder): windows of 1.5 s every 0.75 s through the features
// and the model, as `hptrain embed` runs them. The models are experiments/cnn.toml's and
// experiments/ecapa.toml's [model] (trained one epoch on the tests' tone corpus: the speed does
// not depend on the weights). Counter `x_realtime`: seconds of audio embedded per second of
// wall-clock time (UseRealTime: LibTorch's intra-op threads do not count in this thread's CPU
// time).
//   build-test/bench/bench_speakers --benchmark_min_time=5
//   HP_BENCH_THREADS=1 build-test/bench/bench_speakers --benchmark_filter='cnn'
//   HP_BENCH_DEVICE=cuda HP_BENCH_SECONDS=1200 build-dir/bench/bench_speakers  (a GPU)
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/speakers/embed.h"
#include "speakers/speaker_runs.h"

namespace {

using namespace hptrain;

// Audio per iteration (s): $HP_BENCH_SECONDS, default 120 (a GPU wants more to be busy).
const double kSeconds = [] {
  const char* s = std::getenv("HP_BENCH_SECONDS");
  return s != nullptr ? std::atof(s) : 120.0;
}();

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

// Args: batch size, mode (0 window, 1 stream), precision (0 fp32, 1 bf16); threads from
// $HP_BENCH_THREADS (default 2), device from $HP_BENCH_DEVICE (default cpu; cuda on a GPU).
speakers::EmbedOptions options(const benchmark::State& state) {
  speakers::EmbedOptions o;
  const char* device = std::getenv("HP_BENCH_DEVICE");
  o.device = device != nullptr ? device : "cpu";
  const char* threads = std::getenv("HP_BENCH_THREADS");
  o.threads = threads != nullptr ? std::atoi(threads) : 2;
  o.batch_size = state.range(0);
  o.mode = state.range(1) != 0 ? "stream" : "window";
  o.precision = state.range(2) != 0 ? "bf16" : "fp32";
  return o;
}

// The process's CPU time (user + sys, every thread), s.
double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// x_realtime: audio seconds per wall second; x_realtime_cpu: audio seconds per CPU second of
// the whole process (all of LibTorch's threads): what one idle core would give, the figure to
// compare on a loaded machine (threads spinning at OpenMP barriers count, so it is a floor).
// `windows` (0: none) embedded from `seconds` of audio an iteration.
void report(benchmark::State& state, int64_t windows, double cpu_s, double seconds = kSeconds) {
  state.counters["x_realtime"] = benchmark::Counter(
      seconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["x_realtime_cpu"] = seconds * static_cast<double>(state.iterations()) / cpu_s;
  if (windows > 0) state.counters["windows"] = static_cast<double>(windows);
}

// Counters cos_min, cos_mean: the cosine of each row to the same window's row in mode window,
// fp32 (what training's chunks saw): the accuracy the mode and precision cost.
void agreement(benchmark::State& state, const std::filesystem::path& run,
               const speakers::Embeddings& e) {
  auto o = options(state);
  o.mode = "window";
  o.precision = "fp32";
  const auto& f = fixture();
  const auto ref = speakers::Embedder(run, o).embed(f.audio.data(), f.audio.size());
  double lo = 1, sum = 0;
  for (int64_t i = 0; i < std::min(e.size(), ref.size()); ++i) {
    const double c = speakers::cosine(e.row(i), ref.row(i), e.dim);
    lo = std::min(lo, c);
    sum += c;
  }
  state.counters["cos_min"] = lo;
  state.counters["cos_mean"] = sum / static_cast<double>(std::max<int64_t>(1, ref.size()));
}

// In-memory samples (what diarization hands over): features + model.
void BM_EmbedSamples(benchmark::State& state, const std::filesystem::path& (*run)()) {
  auto& f = fixture();
  speakers::Embedder emb(run(), options(state));
  speakers::Embeddings e;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    e = emb.embed(f.audio.data(), f.audio.size());
    benchmark::DoNotOptimize(e.data.data());
  }
  report(state, e.size(), process_cpu_s() - cpu0);
  agreement(state, run(), e);
}

// A file (hptrain embed): decode, loudness analysis pass, then the windows.
void BM_EmbedFile(benchmark::State& state, const std::filesystem::path& (*run)()) {
  auto& f = fixture();
  speakers::Embedder emb(run(), options(state));
  int64_t windows = 0;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    const auto e = emb.embed_file(f.film);
    windows = e.size();
    benchmark::DoNotOptimize(e.data.data());
  }
  report(state, windows, process_cpu_s() - cpu0);
}

// The file path's preprocessing alone (decode, the loudness analysis pass, the gained blocks), as
// `hptrain embed` reads a file: the part of BM_EmbedFile before the windows.
void BM_PreprocessFile(benchmark::State& state) {
  auto& f = fixture();
  const auto dataset = data::load_dataset_config(f.dir / "dataset.toml");
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    size_t samples = 0;
    preprocess::process_stream(f.film.string(), dataset.preprocess,
                               [&](const float*, size_t n, int64_t) { samples += n; });
    benchmark::DoNotOptimize(samples);
  }
  report(state, 0, process_cpu_s() - cpu0);
}

// The features of one 60-s segment (stream mode's unit), on $HP_BENCH_THREADS threads.
void BM_SegmentFeatures(benchmark::State& state) {
  auto& f = fixture();
  auto dataset = data::load_dataset_config(f.dir / "dataset.toml");
  const char* threads = std::getenv("HP_BENCH_THREADS");
  dataset.features.threads = threads != nullptr ? std::atoi(threads) : 2;
  const int64_t n = std::min<int64_t>(60 * 16000, static_cast<int64_t>(f.audio.size()));
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    auto fs = features::extract(dataset.features, f.audio.data(), 1, n,
                                data::input_features(data::Input::log_mel));
    benchmark::DoNotOptimize(fs.log_mel.data.data());
  }
  report(state, 0, process_cpu_s() - cpu0, static_cast<double>(n) / 16000);
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
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    auto fs = features::extract(dataset.features, windows.data(), n, len,
                                data::input_features(data::Input::log_mel));
    benchmark::DoNotOptimize(fs.log_mel.data.data());
  }
  report(state, n, process_cpu_s() - cpu0);
}

const std::filesystem::path& cnn_run() {
  return fixture().cnn;
}
const std::filesystem::path& ecapa_run() {
  return fixture().ecapa;
}

BENCHMARK_CAPTURE(BM_EmbedSamples, cnn, cnn_run)
    ->ArgNames({"batch", "stream", "bf16"})
    ->Args({256, 0, 0})
    ->Args({256, 0, 1})
    ->Args({256, 1, 0})
    ->Args({256, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EmbedFile, cnn, cnn_run)
    ->ArgNames({"batch", "stream", "bf16"})
    ->Args({256, 0, 0})
    ->Args({256, 1, 0})
    ->Args({256, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WindowFeatures)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PreprocessFile)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SegmentFeatures)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EmbedSamples, ecapa, ecapa_run)
    ->ArgNames({"batch", "stream", "bf16"})
    ->Args({64, 0, 0})
    ->Args({64, 0, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
