// SVM and random-forest fits on the GPU (device = "cuda"): RBF SVC and a 100-tree forest on
// make_classification-like data (100,000 rows, 150 features, 20 informative, 3 classes), with
// the CPU twins at a smaller size for scale. fit() returns host results (the GPU work is
// synchronised inside), so wall time is the fit's time; "examples_per_s" = training rows / s.
// Without a CUDA device it says so and exits 0.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hptrain/baselines/random_forest.h"
#include "hptrain/baselines/svm.h"

#include "cuda_bench_main.h"

namespace {

using namespace hptrain;  // NOLINT: bench file

constexpr int64_t kFeatures = 150;
constexpr int64_t kInformative = 20;
constexpr int kClasses = 3;

// After sklearn.datasets.make_classification (class_sep 1, one cluster per class): class
// centres on vertices of a hypercube in the informative columns, Gaussian noise, the other
// columns random mixtures of the informative ones plus noise.
struct Data {
  std::vector<float> X;
  std::vector<int32_t> y;
};
const Data& data(int64_t n) {
  static std::vector<std::pair<int64_t, Data> > cache;
  for (const auto& [m, d] : cache) {
    if (m == n) return d;
  }
  std::mt19937_64 rng(0);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centre(kClasses * kInformative), mix(kFeatures * kInformative);
  for (float& v : centre) v = (rng() & 1) ? 1.0f : -1.0f;
  for (float& v : mix) v = g(rng) / static_cast<float>(kInformative);
  Data d;
  d.X.resize(static_cast<size_t>(n * kFeatures));
  d.y.resize(n);
  std::vector<float> inf(kInformative);
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % kClasses);
    d.y[i] = c;
    for (int64_t j = 0; j < kInformative; ++j) inf[j] = centre[c * kInformative + j] + g(rng);
    for (int64_t j = 0; j < kFeatures; ++j) {
      float v = j < kInformative ? inf[j] : g(rng);
      if (j >= kInformative && j < 2 * kInformative) {
        v = 0;
        for (int64_t q = 0; q < kInformative; ++q) v += mix[j * kInformative + q] * inf[q];
      }
      d.X[i * kFeatures + j] = v;
    }
  }
  cache.emplace_back(n, std::move(d));
  return cache.back().second;
}

void report(benchmark::State& state, int64_t n) {
  state.counters["examples_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

// args: rows, on the GPU (1) or the CPU (0)
void BM_SvmFit(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Data& d = data(n);
  baselines::SvmConfig cfg;  // sklearn's SVC defaults: RBF, C 1, gamma scale, no probabilities
  cfg.probability = false;
  cfg.device = state.range(1) ? "cuda" : "cpu";
  for (auto _ : state) {
    baselines::SvmClassifier svm(cfg);
    svm.fit(d.X.data(), n, kFeatures, d.y.data(), kClasses);
    state.counters["support_vectors"] = static_cast<double>(svm.support().size());
  }
  report(state, n);
}
BENCHMARK(BM_SvmFit)
    ->Args({20000, 1})
    ->Args({100000, 1})
    ->Args({5000, 0})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

void BM_ForestFit(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Data& d = data(n);
  baselines::ForestConfig cfg;  // 100 trees, sqrt features, bootstrap, grown to purity
  cfg.device = state.range(1) ? "cuda" : "cpu";
  for (auto _ : state) {
    baselines::RandomForestClassifier rf(cfg);
    rf.fit(d.X.data(), n, kFeatures, d.y.data(), kClasses);
  }
  report(state, n);
}
BENCHMARK(BM_ForestFit)
    ->Args({100000, 1})
    ->Args({20000, 0})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

HP_CUDA_BENCHMARK_MAIN("bench_cuda_baselines")
