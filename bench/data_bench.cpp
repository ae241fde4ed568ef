// Shard reader throughput: random minibatches from ShardDataset::get, and whole shuffled epochs
// with and without the Prefetcher, with a simulated training step. Examples per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "hptrain/data/dataset.h"
#include "hptrain/data/random.h"
#include "hptrain/data/shard.h"
#include "hptrain/fs.h"

namespace {

namespace stdfs = std::filesystem;
using hptrain::data::Batch;
using hptrain::data::Input;
using hptrain::data::Prefetcher;
using hptrain::data::ShardDataset;

// The demo dataset's shapes (speech preset, 3 s chunks): log_mel [64, 301], mfcc [60, 301],
// stats [162]; 8 shards of 256 examples.
constexpr int64_t kShards = 8, kPerShard = 256, kMels = 64, kMfcc = 60, kFrames = 301, kStats = 162;

// The shards' compression: $HP_BENCH_COMPRESSION (none, gzip[:LEVEL], lzf), else the dataset
// default (lzf). The write time and the size on disk go to stderr.
hptrain::h5::Compression compression() {
  const char* c = std::getenv("HP_BENCH_COMPRESSION");
  return hptrain::h5::Compression::parse(c != nullptr && *c != '\0' ? c : "lzf",
                                         "HP_BENCH_COMPRESSION");
}

// Log-mel-like values (smooth in time, noisy across bands) so that gzip sees realistic data.
const stdfs::path& dataset_dir() {
  static const stdfs::path dir = [] {
    const auto comp = compression();
    double write_s = 0;
    const auto d = stdfs::temp_directory_path() / "hptrain-bench-data";
    std::error_code ec;
    hptrain::fs::remove_tree(d, ec);
    hptrain::data::SplitMix64 rng(1);
    for (int64_t s = 0; s < kShards; ++s) {
      hptrain::data::ShardContents c;
      c.log_mel = hptrain::Tensor3(kPerShard, kMels, kFrames);
      c.mfcc = hptrain::Tensor3(kPerShard, kMfcc, kFrames);
      c.stats = hptrain::Tensor3(kPerShard, 1, kStats);
      for (auto* t : {&c.log_mel, &c.mfcc, &c.stats}) {
        float v = 0;
        for (auto& x : t->data) x = (v = 0.9f * v + static_cast<float>(rng.normal()));
      }
      for (int64_t i = 0; i < kStats; ++i) c.stats_columns.push_back("c" + std::to_string(i));
      for (int64_t i = 0; i < kPerShard; ++i) {
        c.labels["scene"].push_back(static_cast<int64_t>(rng.below(3)));
        c.source.push_back("scene.wav");
        c.offset.push_back(3.0 * static_cast<double>(i));
      }
      hptrain::data::ShardInfo info;
      info.split = "train";
      info.index = s;
      info.fingerprint = "bench";
      info.tasks = {"scene"};
      info.classes = {{"scene", {"dialog", "action", "emotional"}}};
      const auto t0 = std::chrono::steady_clock::now();
      hptrain::data::write_shard(
          d / hptrain::data::shard_name("train", s), c, info, [](hptrain::h5::File&) {}, comp);
      write_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::uintmax_t bytes = 0;
    for (const auto& e : stdfs::directory_iterator(d)) bytes += e.file_size();
    std::fprintf(stderr, "shards: compression %s, written in %.2f s, %.1f MB on disk\n",
                 comp.str().c_str(), write_s, static_cast<double>(bytes) / 1e6);
    nlohmann::json j = {{"fingerprint", "bench"}, {"splits", {{"train", {{"shards", kShards}}}}}};
    hptrain::fs::write_text(d / hptrain::data::kPreparedFile, j.dump());
    return d;
  }();
  return dir;
}

// cached: the default budget holds the whole split in memory; else every example from the file
const ShardDataset& dataset(bool cached) {
  static ShardDataset streamed(dataset_dir(), "train");
  static ShardDataset in_memory(dataset_dir(), "train");
  streamed.set_cache_budget(0);
  return cached ? in_memory : streamed;
}

Input input_of(int64_t i) {
  return i == 0 ? Input::log_mel : i == 1 ? Input::mfcc : Input::stats;
}

// A stand-in for a training step on the GPU: the host thread waits `us` microseconds (as it
// waits on the device), touching the batch first.
void step(const Batch& b, int64_t us) {
  benchmark::DoNotOptimize(b.x.data());
  std::this_thread::sleep_for(std::chrono::microseconds(us));
}

// Random minibatches (batch = range(1)) of input range(0) (0 log_mel, 1 mfcc, 2 stats), read
// from the shards (range(2) = 0) or from the in-memory cache (range(2) = 1).
void BM_RandomBatch(benchmark::State& state) {
  const bool cached = state.range(2) != 0;
  const auto& ds = dataset(cached);
  const Input in = input_of(state.range(0));
  const int64_t batch = state.range(1);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> pick(0, ds.size() - 1);
  std::vector<int64_t> idx(static_cast<size_t>(batch));
  benchmark::DoNotOptimize(ds.get({0}, in));  // fills the cache outside the timing
  for (auto _ : state) {
    for (auto& i : idx) i = pick(rng);
    benchmark::DoNotOptimize(ds.get(idx, in));
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(hptrain::data::input_name(in) + (cached ? " cached" : " streamed"));
}
BENCHMARK(BM_RandomBatch)
    ->ArgsProduct({{0, 1, 2}, {1, 64}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A shuffled epoch of streamed log_mel batches of 64 with a simulated training step of range(1)
// us per batch (32 batches), read in the loop (range(0) = 0) or by the Prefetcher (range(0) = 1).
void BM_Epoch(benchmark::State& state) {
  const auto& ds = dataset(false);
  const bool prefetch = state.range(0) != 0;
  const int64_t step_us = state.range(1);
  constexpr int64_t kBatch = 64;
  uint64_t epoch = 0;
  for (auto _ : state) {
    if (prefetch) {
      Prefetcher p(ds, Input::log_mel, kBatch, true, epoch++);
      Batch b;
      while (p.next(b)) step(b, step_us);
    } else {
      const auto order = hptrain::data::permutation(ds.size(), epoch++);
      for (int64_t first = 0; first < ds.size(); first += kBatch) {
        const auto last = std::min(first + kBatch, ds.size());
        step(ds.get(std::vector<int64_t>(order.begin() + first, order.begin() + last),
                    Input::log_mel),
             step_us);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * ds.size());
  state.SetLabel(std::string(prefetch ? "prefetch" : "no prefetch") + ", step " +
                 std::to_string(step_us) + " us");
}
BENCHMARK(BM_Epoch)
    ->ArgsProduct({{0, 1}, {0, 20000}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  hptrain::fs::remove_tree(stdfs::temp_directory_path() / "hptrain-bench-data", ec);
  return 0;
}
