// Fit time of the SVM and the random forest on seeded Gaussian blobs at a few sizes (CPU,
// all cores); items/s = training rows per second.
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
  for (auto _ : state) {
    SvmClassifier svm(cfg);
    svm.fit(d.X.data(), n, kFeatures, d.y.data(), kClasses);
    state.counters["n_sv"] = static_cast<double>(svm.support().size());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_SvmFit)
    ->ArgNames({"n", "probability"})
    ->Args({1000, 0})
    ->Args({4000, 0})
    ->Args({1000, 1})
    ->Args({4000, 1})
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
