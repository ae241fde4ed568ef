// Seeded toy data sets for the baseline tests: Gaussian blobs, a noiseless tree-shaped problem
// and XOR. X is [n, d] row-major float32, y in [0, k).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace hptrain::test {

struct Toy {
  std::vector<float> X;
  std::vector<int32_t> y;
  int64_t n = 0, d = 0;
  int k = 0;
};

// k Gaussian blobs (unit variance) with random centres scaled by `sep`; the centres depend on
// (d, k, sep) only, so sets drawn with different seeds share a distribution.
inline Toy blobs(int64_t n, int64_t d, int k, double sep, uint64_t seed) {
  std::mt19937_64 centres(static_cast<uint64_t>(d * 1000 + k));
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> centre(static_cast<size_t>(k * d));
  for (auto& c : centre) c = sep * g(centres) / 2;
  std::mt19937_64 rng(seed);
  Toy t{std::vector<float>(static_cast<size_t>(n * d)), std::vector<int32_t>(n), n, d, k};
  for (int64_t i = 0; i < n; ++i) {
    t.y[i] = static_cast<int32_t>(i % k);
    for (int64_t c = 0; c < d; ++c) {
      t.X[i * d + c] = static_cast<float>(centre[t.y[i] * d + c] + g(rng));
    }
  }
  return t;
}

// Points of a 3-D grid (side 10, values 0.05..0.95) labelled by a depth-2 tree:
// x0 <= 0.5 -> 0; else x1 <= 0.3 -> 1; else 2. Feature 2 is noise the labels ignore.
inline Toy tree_shaped() {
  Toy t;
  t.d = 3;
  t.k = 3;
  for (int a = 0; a < 10; ++a) {
    for (int b = 0; b < 10; ++b) {
      for (int c = 0; c < 10; ++c) {
        const float x0 = 0.05f + 0.1f * a, x1 = 0.05f + 0.1f * b, x2 = 0.05f + 0.1f * c;
        t.X.insert(t.X.end(), {x0, x1, x2});
        t.y.push_back(x0 <= 0.5f ? 0 : (x1 <= 0.3f ? 1 : 2));
      }
    }
  }
  t.n = static_cast<int64_t>(t.y.size());
  return t;
}

// Training accuracy of predicted labels.
inline double accuracy(const std::vector<int32_t>& pred, const std::vector<int32_t>& y) {
  int64_t ok = 0;
  for (size_t i = 0; i < y.size(); ++i) ok += pred[i] == y[i];
  return static_cast<double>(ok) / static_cast<double>(y.size());
}

}  // namespace hptrain::test
