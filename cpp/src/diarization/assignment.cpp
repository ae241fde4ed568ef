// Hungarian algorithm by shortest augmenting paths with potentials (Kuhn-Munkres as in
// Jonker-Volgenant / scipy's linear_sum_assignment), rows <= cols after an optional transpose.
#include "hptrain/diarization/assignment.h"

#include <algorithm>
#include <limits>

namespace hptrain::diarization {

std::vector<std::pair<int, int>> linear_sum_assignment(const std::vector<double>& cost, int rows,
                                                       int cols) {
  std::vector<std::pair<int, int>> pairs;
  if (rows <= 0 || cols <= 0) return pairs;
  const bool transposed = rows > cols;
  const int n = transposed ? cols : rows;  // n <= m
  const int m = transposed ? rows : cols;
  const auto a = [&](int i, int j) {  // 1-based
    return transposed ? cost[static_cast<size_t>(j - 1) * cols + (i - 1)]
                      : cost[static_cast<size_t>(i - 1) * cols + (j - 1)];
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> p(m + 1, 0), way(m + 1, 0);  // p[j]: row matched to column j
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {
      used[j0] = 1;
      const int i0 = p[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= m; ++j) {
    if (p[j] == 0) continue;
    if (transposed) {
      pairs.emplace_back(j - 1, p[j] - 1);
    } else {
      pairs.emplace_back(p[j] - 1, j - 1);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

}  // namespace hptrain::diarization
