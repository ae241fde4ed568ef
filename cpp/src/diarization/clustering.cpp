// Agglomerative and spectral clustering of window embeddings (clustering.h).
// ref: scipy.cluster.hierarchy.linkage(method="average") by the nearest-neighbour chain;
// spectral clustering with the eigengap rule after Park et al., "Auto-tuning spectral
// clustering for speaker diarization using normalized maximum eigengap", 2019.
#include "hptrain/diarization/clustering.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

#include "hptrain/data/random.h"
#include "hptrain/error.h"

namespace hptrain::diarization {

namespace {

double dot(const double* a, const double* b, int d) {
  double s = 0;
  for (int k = 0; k < d; ++k) s += a[k] * b[k];
  return s;
}

// Items after merging time-adjacent rows (most similar adjacent pair first) down to `cap`.
struct Items {
  int d = 0;
  std::vector<double> sums;    // [m, d]
  std::vector<double> counts;  // windows per item
  std::vector<int> of_row;     // item of each input row
  int m() const { return static_cast<int>(counts.size()); }
};

Items adjacent_merge(const float* x, int64_t n, int64_t d, int cap) {
  Items it;
  it.d = static_cast<int>(d);
  std::vector<std::vector<double>> sum(static_cast<size_t>(n), std::vector<double>(d));
  std::vector<double> cnt(static_cast<size_t>(n), 1.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < d; ++k) sum[i][k] = x[i * d + k];
  }
  std::vector<int64_t> next(n), prev(n), root(n);
  std::vector<int> version(n, 0);
  std::vector<char> alive(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
    root[i] = i;
  }
  const auto sim = [&](int64_t a, int64_t b) {
    const double na = std::sqrt(dot(sum[a].data(), sum[a].data(), it.d));
    const double nb = std::sqrt(dot(sum[b].data(), sum[b].data(), it.d));
    return na > 0 && nb > 0 ? dot(sum[a].data(), sum[b].data(), it.d) / (na * nb) : -1.0;
  };
  struct Cand {
    double s;
    int64_t a, b;
    int va, vb;
    bool operator<(const Cand& o) const { return s < o.s || (s == o.s && a > o.a); }
  };
  std::priority_queue<Cand> pq;
  for (int64_t i = 0; i + 1 < n; ++i) pq.push({sim(i, i + 1), i, i + 1, 0, 0});
  int64_t m = n;
  while (m > cap && !pq.empty()) {
    const Cand c = pq.top();
    pq.pop();
    if (!alive[c.a] || !alive[c.b] || version[c.a] != c.va || version[c.b] != c.vb) continue;
    for (int64_t k = 0; k < d; ++k) sum[c.a][k] += sum[c.b][k];
    cnt[c.a] += cnt[c.b];
    alive[c.b] = 0;
    root[c.b] = c.a;
    next[c.a] = next[c.b];
    if (next[c.b] >= 0) prev[next[c.b]] = c.a;
    ++version[c.a];
    --m;
    if (prev[c.a] >= 0)
      pq.push({sim(prev[c.a], c.a), prev[c.a], c.a, version[prev[c.a]], version[c.a]});
    if (next[c.a] >= 0)
      pq.push({sim(c.a, next[c.a]), c.a, next[c.a], version[c.a], version[next[c.a]]});
  }
  std::vector<int> index(n, -1);
  for (int64_t i = 0; i < n; ++i) {
    if (!alive[i]) continue;
    index[i] = it.m();
    it.sums.insert(it.sums.end(), sum[i].begin(), sum[i].end());
    it.counts.push_back(cnt[i]);
  }
  it.of_row.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i;
    while (root[r] != r) r = root[r];
    it.of_row[i] = index[r];
  }
  return it;
}

int find(std::vector<int>& p, int a) {
  while (p[a] != a) a = p[a] = p[p[a]];
  return a;
}

// Weighted k-means (k-means++ start, a few seeded restarts) of rows of y [m, k].
std::vector<int> kmeans(const std::vector<double>& y, const std::vector<double>& w, int m, int dim,
                        int k) {
  data::SplitMix64 rng(25);
  std::vector<int> best(m, 0);
  double best_cost = 1e300;
  for (int restart = 0; restart < 8; ++restart) {
    std::vector<double> c(static_cast<size_t>(k) * dim);
    std::vector<double> d2(m, 1e300);
    int first = static_cast<int>(rng.below(m));
    std::copy(&y[static_cast<size_t>(first) * dim], &y[static_cast<size_t>(first + 1) * dim],
              c.begin());
    for (int j = 1; j < k; ++j) {
      double tot = 0;
      for (int i = 0; i < m; ++i) {
        double s = 0;
        for (int q = 0; q < dim; ++q) {
          const double v =
              y[static_cast<size_t>(i) * dim + q] - c[static_cast<size_t>(j - 1) * dim + q];
          s += v * v;
        }
        d2[i] = std::min(d2[i], s);
        tot += w[i] * d2[i];
      }
      double r = rng.uniform() * tot;
      int pick = m - 1;
      for (int i = 0; i < m; ++i) {
        r -= w[i] * d2[i];
        if (r <= 0) {
          pick = i;
          break;
        }
      }
      std::copy(&y[static_cast<size_t>(pick) * dim], &y[static_cast<size_t>(pick + 1) * dim],
                c.begin() + static_cast<std::ptrdiff_t>(j) * dim);
    }
    std::vector<int> lab(m, 0);
    double cost = 0;
    for (int iter = 0; iter < 100; ++iter) {
      bool changed = false;
      cost = 0;
      for (int i = 0; i < m; ++i) {
        double bd = 1e300;
        int bj = 0;
        for (int j = 0; j < k; ++j) {
          double s = 0;
          for (int q = 0; q < dim; ++q) {
            const double v =
                y[static_cast<size_t>(i) * dim + q] - c[static_cast<size_t>(j) * dim + q];
            s += v * v;
          }
          if (s < bd) {
            bd = s;
            bj = j;
          }
        }
        changed = changed || lab[i] != bj;
        lab[i] = bj;
        cost += w[i] * bd;
      }
      if (!changed && iter > 0) break;
      std::vector<double> cw(k, 0.0);
      std::fill(c.begin(), c.end(), 0.0);
      for (int i = 0; i < m; ++i) {
        cw[lab[i]] += w[i];
        for (int q = 0; q < dim; ++q)
          c[static_cast<size_t>(lab[i]) * dim + q] += w[i] * y[static_cast<size_t>(i) * dim + q];
      }
      for (int j = 0; j < k; ++j) {
        for (int q = 0; q < dim && cw[j] > 0; ++q) c[static_cast<size_t>(j) * dim + q] /= cw[j];
      }
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = lab;
    }
  }
  return best;
}

std::vector<int> spectral(const Items& it, const ClusterConfig& cfg) {
  const int m = it.m(), d = it.d;
  std::vector<double> unit(it.sums);
  for (int i = 0; i < m; ++i) {
    const double nrm =
        std::sqrt(dot(&unit[static_cast<size_t>(i) * d], &unit[static_cast<size_t>(i) * d], d));
    for (int k = 0; k < d && nrm > 0; ++k) unit[static_cast<size_t>(i) * d + k] /= nrm;
  }
  Eigen::MatrixXd a(m, m);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < m; ++j) {
      a(i, j) = i == j ? 1.0
                       : std::max(0.0, dot(&unit[static_cast<size_t>(i) * d],
                                           &unit[static_cast<size_t>(j) * d], d));
    }
  }
  // keep each row's top fraction (at least 2 neighbours), then symmetrise
  const int keep = std::max(2, static_cast<int>(std::ceil(cfg.spectral_keep * m)));
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(m, m);
  std::vector<int> idx(m);
  for (int i = 0; i < m; ++i) {
    std::iota(idx.begin(), idx.end(), 0);
    const int kk = std::min(keep, m);
    std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(),
                      [&](int x, int y) { return a(i, x) > a(i, y); });
    for (int t = 0; t < kk; ++t) p(i, idx[t]) = a(i, idx[t]);
  }
  const Eigen::MatrixXd s = 0.5 * (p + p.transpose());
  Eigen::VectorXd deg = s.rowwise().sum();
  Eigen::VectorXd inv = deg.unaryExpr([](double v) { return v > 0 ? 1.0 / std::sqrt(v) : 0.0; });
  const Eigen::MatrixXd lap =
      Eigen::MatrixXd::Identity(m, m) - inv.asDiagonal() * s * inv.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(lap);
  const Eigen::VectorXd ev = es.eigenvalues();  // ascending
  int k = cfg.num_speakers;
  if (k <= 0) {
    const int lo = std::max(1, cfg.min_speakers), hi = std::min(cfg.max_speakers, m - 1);
    k = lo;
    double best = -1;
    for (int c = lo; c <= hi; ++c) {  // the gap after the c-th smallest eigenvalue
      const double gap = ev(c) - ev(c - 1);
      if (gap > best) {
        best = gap;
        k = c;
      }
    }
  }
  k = std::clamp(k, 1, m);
  std::vector<double> y(static_cast<size_t>(m) * k);
  for (int i = 0; i < m; ++i) {
    double nrm = 0;
    for (int j = 0; j < k; ++j) nrm += es.eigenvectors()(i, j) * es.eigenvectors()(i, j);
    nrm = std::sqrt(nrm);
    for (int j = 0; j < k; ++j)
      y[static_cast<size_t>(i) * k + j] = nrm > 0 ? es.eigenvectors()(i, j) / nrm : 0;
  }
  return kmeans(y, it.counts, m, k, k);
}

// Average-linkage AHC cut at the threshold (or where `num_speakers` large clusters remain),
// then clusters of fewer than min_cluster_size windows joined to the most similar large one:
// windows that straddle two speakers otherwise stay apart as clusters of their own to the end.
std::vector<int> ahc(const Items& it, const ClusterConfig& cfg);

}  // namespace

void ClusterConfig::validate() const {
  if (method != "ahc" && method != "spectral") {
    throw ConfigError("clustering = '" + method + "': must be ahc or spectral");
  }
  if (num_speakers < 0) throw ConfigError("num_speakers: must be >= 1 (0: unknown)");
  if (min_speakers < 1 || max_speakers < min_speakers) {
    throw ConfigError("min_speakers/max_speakers: must be 1 <= min <= max");
  }
  if (max_items_ahc < 2 || max_items_spectral < 2) throw ConfigError("max_items: must be >= 2");
  if (!(min_cluster_size >= 1)) throw ConfigError("min_cluster_size: must be >= 1");
}

std::vector<Merge> average_linkage(const std::vector<double>& sums,
                                   const std::vector<double>& counts, int m, int d) {
  std::vector<Merge> merges;
  if (m < 2) return merges;
  // similarity of clusters i, j: average over their windows' pairs = S_i . S_j / (n_i n_j)
  std::vector<double> s(static_cast<size_t>(m) * m);
  for (int i = 0; i < m; ++i) {
    for (int j = i; j < m; ++j) {
      const double v =
          dot(&sums[static_cast<size_t>(i) * d], &sums[static_cast<size_t>(j) * d], d) /
          (counts[i] * counts[j]);
      s[static_cast<size_t>(i) * m + j] = s[static_cast<size_t>(j) * m + i] = v;
    }
  }
  std::vector<double> n(counts);
  std::vector<char> active(m, 1);
  std::vector<int> chain;
  int left = m;
  while (left > 1) {
    if (chain.empty()) {
      for (int i = 0; i < m; ++i) {
        if (active[i]) {
          chain.push_back(i);
          break;
        }
      }
    }
    const int a = chain.back();
    const int before = chain.size() >= 2 ? chain[chain.size() - 2] : -1;
    int b = before;
    double best = before >= 0 ? s[static_cast<size_t>(a) * m + before] : -1e300;
    for (int j = 0; j < m; ++j) {
      if (!active[j] || j == a) continue;
      if (s[static_cast<size_t>(a) * m + j] > best) {
        best = s[static_cast<size_t>(a) * m + j];
        b = j;
      }
    }
    if (b == before) {  // reciprocal nearest neighbours: merge b into a
      chain.pop_back();
      chain.pop_back();
      merges.push_back({a, b, best});
      for (int j = 0; j < m; ++j) {
        if (!active[j] || j == a || j == b) continue;
        const double v =
            (n[a] * s[static_cast<size_t>(a) * m + j] + n[b] * s[static_cast<size_t>(b) * m + j]) /
            (n[a] + n[b]);
        s[static_cast<size_t>(a) * m + j] = s[static_cast<size_t>(j) * m + a] = v;
      }
      n[a] += n[b];
      active[b] = 0;
      --left;
    } else {
      chain.push_back(b);
    }
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& x, const Merge& y) { return x.similarity > y.similarity; });
  return merges;
}

std::vector<int> cluster(const float* x, int64_t n, int64_t d, const ClusterConfig& cfg) {
  cfg.validate();
  std::vector<int> out(static_cast<size_t>(n), 0);
  if (n <= 1) return out;
  const int cap = cfg.method == "ahc" ? cfg.max_items_ahc : cfg.max_items_spectral;
  const Items it = adjacent_merge(x, n, d, cap);
  const int m = it.m();
  std::vector<int> lab;
  if (m == 1) {
    lab = {0};
  } else if (cfg.method == "spectral") {
    lab = spectral(it, cfg);
  } else {
    lab = ahc(it, cfg);
  }
  // number clusters by first appearance in time
  std::vector<int> rename(static_cast<size_t>(*std::max_element(lab.begin(), lab.end()) + 1), -1);
  int next = 0;
  for (int64_t i = 0; i < n; ++i) {
    int& r = rename[static_cast<size_t>(lab[static_cast<size_t>(it.of_row[i])])];
    if (r < 0) r = next++;
    out[static_cast<size_t>(i)] = r;
  }
  return out;
}

namespace {

std::vector<int> ahc(const Items& it, const ClusterConfig& cfg) {
  const int m = it.m(), d = it.d;
  const auto order = average_linkage(it.sums, it.counts, m, d);
  const double big = cfg.min_cluster_size;
  std::vector<int> p(m);
  std::iota(p.begin(), p.end(), 0);
  std::vector<double> size(it.counts);
  int large = 0;
  for (int i = 0; i < m; ++i) large += size[i] >= big ? 1 : 0;
  const int want = cfg.num_speakers;
  for (const Merge& mg : order) {
    const int a = find(p, mg.a), b = find(p, mg.b);
    const bool both_large = size[a] >= big && size[b] >= big;
    if (want > 0) {
      // never fewer than `want` speakers; at the threshold, stop if there are `want` already
      if ((both_large && large <= want) || (mg.similarity < cfg.threshold && large == want)) break;
    } else {
      if (mg.similarity < cfg.threshold && large <= cfg.max_speakers) break;
      if (both_large && large <= cfg.min_speakers) break;
    }
    large -= (size[a] >= big ? 1 : 0) + (size[b] >= big ? 1 : 0);
    p[a] = b;
    size[b] += size[a];
    large += size[b] >= big ? 1 : 0;
  }
  // sums of the clusters; small ones join the large one they are most similar to
  std::vector<int> root(m);
  for (int i = 0; i < m; ++i) root[i] = find(p, i);
  std::vector<double> sum(static_cast<size_t>(m) * d, 0.0);
  for (int i = 0; i < m; ++i) {
    for (int k = 0; k < d; ++k)
      sum[static_cast<size_t>(root[i]) * d + k] += it.sums[static_cast<size_t>(i) * d + k];
  }
  std::vector<int> bigs;
  for (int i = 0; i < m; ++i) {
    if (root[i] == i && size[i] >= big) bigs.push_back(i);
  }
  if (bigs.empty()) return std::vector<int>(m, 0);
  std::vector<int> lab(m);
  for (int i = 0; i < m; ++i) {
    const int r = root[i];
    if (size[r] >= big) {
      lab[i] = r;
      continue;
    }
    double best = -1e300;
    for (int b : bigs) {
      const double s = dot(&sum[static_cast<size_t>(r) * d], &sum[static_cast<size_t>(b) * d], d) /
                       (size[r] * size[b]);
      if (s > best) {
        best = s;
        lab[i] = b;
      }
    }
  }
  return lab;
}

}  // namespace

}  // namespace hptrain::diarization
