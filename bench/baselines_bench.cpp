// Fit time of the SVM and the random forest on seeded Gaussian blobs at a few sizes (CPU,
// all cores); items/s = training rows per second. The SVM with LIBSVM's pairwise SMO
// (working_set 0) and the working set of 512, with the default cache (200 MiB: the matrices of
// these sizes fit) and a 4 MiB one (they do not). At d = 40 and 2,000 rows per problem the
// pairwise SMO wins either way (cheap rows): auto picks it below kWorkingSetMinRows rows.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "hptrain/baselines/random_forest.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/log.h"

namespace {

using namespace hptrain::baselines;

constexpr int64_t kFeatures = 40;  // about the width of the pooled `stats` rows
constexpr int kClasses = 4;

struct Data {
  std::vector<float> X;
  std::vector<int32_t> y;
};

// Overlapping blobs: centres ~ N(0, 1) per class and feature, unit noise.
Data blobs(int64_t n) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> g;
  std::vector<float> centre(kClasses * kFeatures);
  for (auto& c : centre) c = 0.5f * g(rng);
  Data d{std::vector<float>(n * kFeatures), std::vector<int32_t>(n)};
  for (int64_t i = 0; i < n; ++i) {
    d.y[i] = static_cast<int32_t>(i % kClasses);
    for (int64_t c = 0; c < kFeatures; ++c) {
      d.X[i * kFeatures + c] = centre[d.y[i] * kFeatures + c] + g(rng);
    }
  }
  return d;
}

void BM_SvmFit(benchmark::State& state) {
  hptrain::log::init("warn");
  const int64_t n = state.range(0);
  const Data d = blobs(n);
  SvmConfig cfg;
  cfg.probability = state.range(1) != 0;
  cfg.working_set = state.range(2);
  cfg.cache_size = static_cast<double>(state.range(3));
  for (auto _ : state) {
    SvmClassifier svm(cfg);
    svm.fit(d.X.data(), n, kFeatures, d.y.data(), kClasses);
    state.counters["n_sv"] = static_cast<double>(svm.support().size());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_SvmFit)
    ->ArgNames({"n", "probability", "working_set", "cache_mib"})
    ->Args({1000, 0, 0, 200})
    ->Args({1000, 0, 512, 200})
    ->Args({4000, 0, 0, 200})
    ->Args({4000, 0, 512, 200})
    ->Args({4000, 0, 0, 4})
    ->Args({4000, 0, 512, 4})
    ->Args({1000, 1, 0, 200})
    ->Args({4000, 1, 0, 200})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ForestFit(benchmark::State& state) {
  hptrain::log::init("warn");
  const int64_t n = state.range(0);
  const Data d = blobs(n);
  ForestConfig cfg;
  cfg.n_estimators = 100;
  for (auto _ : state) {
    RandomForestClassifier rf(cfg);
    rf.fit(d.X.data(), n, kFeatures, d.y.data(), kClasses);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ForestFit)
    ->ArgName("n")
    ->Arg(1000)
    ->Arg(4000)
    ->Arg(16000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
