// Clustering of one recording's window embeddings in one or two stages (recording_clustering.h).
#include "hptrain/diarization/recording_clustering.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "hptrain/error.h"

namespace hptrain::diarization {

namespace {

constexpr double kClipZ = 3.0;

// One view of columns [k0, k0 + dim) of x [n, stride], written to columns [c0, c0 + dim) of
// out [n, width]: whitened when `whitening` is given, z-scored per dimension over the rows
// (clipped at +-kClipZ) when `standardise`, each row L2-normalised and scaled by the square root
// of `weight`.
void put_view(const std::vector<float>& x, size_t n, int64_t stride, int64_t k0, int64_t dim,
              const Whitening* whitening, bool standardise, double weight, std::vector<float>& out,
              int64_t width, int64_t c0) {
  const auto at = [](size_t i, int64_t w, int64_t k) { return i * static_cast<size_t>(w) + k; };
  for (size_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < dim; ++k) out[at(i, width, c0 + k)] = x[at(i, stride, k0 + k)];
  }
  if (whitening) whitening->apply(out.data() + c0, static_cast<int64_t>(n), width);
  if (standardise) {
    // z-scores per dimension, clipped at +-kClipZ: a few odd windows (a cough, a door) would
    // otherwise stand far out and squeeze the rest together after the L2 normalisation
    for (int64_t k = c0; k < c0 + dim; ++k) {
      double m = 0, v = 0;
      for (size_t i = 0; i < n; ++i) m += out[at(i, width, k)];
      m /= static_cast<double>(n);
      for (size_t i = 0; i < n; ++i) v += (out[at(i, width, k)] - m) * (out[at(i, width, k)] - m);
      const double sd = std::sqrt(v / static_cast<double>(n));
      for (size_t i = 0; i < n; ++i) {
        const double z = sd > 0 ? (out[at(i, width, k)] - m) / sd : 0.0;
        out[at(i, width, k)] = static_cast<float>(std::clamp(z, -kClipZ, kClipZ));
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    double nrm = 0;
    for (int64_t k = c0; k < c0 + dim; ++k) {
      nrm += static_cast<double>(out[at(i, width, k)]) * out[at(i, width, k)];
    }
    nrm = std::sqrt(nrm);
    const double scale = nrm > 0 ? std::sqrt(weight) / nrm : 0.0;
    for (int64_t k = c0; k < c0 + dim; ++k) {
      out[at(i, width, k)] = static_cast<float>(out[at(i, width, k)] * scale);
    }
  }
}

// Rows as the clustering sees them, [n, width]: each block as one view (put_view, standardised
// when rc.standardise) at its weight; with a whitening, the first block as two: whitened
// (raw cosine) at rc.whiten_weight of its weight, and as without the whitening at the rest.
struct Prepared {
  std::vector<float> rows;
  int64_t width = 0;
};
Prepared prepare_rows(const std::vector<float>& x, size_t n, int64_t D,
                      const RecordingClusterConfig& rc) {
  const std::vector<EmbeddingBlock> blocks =
      rc.blocks.empty() ? std::vector<EmbeddingBlock>{{D, 1.0}} : rc.blocks;
  const bool whiten = rc.whitening != nullptr;
  const bool both = whiten && rc.whiten_weight < 1;
  Prepared p;
  p.width = D + (both ? blocks.front().dim : 0);
  p.rows.resize(n * static_cast<size_t>(p.width));
  int64_t k0 = 0, c0 = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const int64_t dim = blocks[b].dim;
    const double weight = blocks[b].weight;
    if (b == 0 && whiten) {
      put_view(x, n, D, k0, dim, rc.whitening.get(), false, weight * rc.whiten_weight, p.rows,
               p.width, c0);
      c0 += dim;
      if (both) {
        put_view(x, n, D, k0, dim, nullptr, rc.standardise, weight * (1 - rc.whiten_weight), p.rows,
                 p.width, c0);
        c0 += dim;
      }
    } else {
      put_view(x, n, D, k0, dim, nullptr, rc.standardise, weight, p.rows, p.width, c0);
      c0 += dim;
    }
    k0 += dim;
  }
  return p;
}

}  // namespace

void RecordingClusterConfig::validate() const {
  if (!(piece_s >= 0)) throw ConfigError("piece_s: must be >= 0 (0: one stage)");
  if (!(whiten_weight > 0 && whiten_weight <= 1)) {
    throw ConfigError("whiten_weight: must be in (0, 1]");
  }
  double w = 0;
  for (const auto& b : blocks) {
    if (b.dim < 1 || !(b.weight >= 0)) {
      throw ConfigError("embedding blocks: each needs dim >= 1 and weight >= 0");
    }
    w += b.weight;
  }
  if (!blocks.empty() && std::abs(w - 1) > 1e-9) {
    throw ConfigError("embedding blocks: the weights must sum to 1");
  }
}

namespace {
void check_blocks(const RecordingClusterConfig& rc, int64_t D) {
  rc.validate();
  int64_t total = 0;
  for (const auto& b : rc.blocks) total += b.dim;
  if (!rc.blocks.empty() && total != D) {
    throw ConfigError("embedding blocks of " + std::to_string(total) + " columns for rows of " +
                      std::to_string(D));
  }
  const int64_t first = rc.blocks.empty() ? D : rc.blocks.front().dim;
  if (rc.whitening && rc.whitening->dim != first) {
    throw ConfigError("a whitening of " + std::to_string(rc.whitening->dim) +
                      "-dimensional embeddings for embeddings of " + std::to_string(first));
  }
}
}  // namespace

std::vector<int> cluster_in_pieces(const std::vector<float>& x, const std::vector<double>& start_s,
                                   int64_t D, const RecordingClusterConfig& rc,
                                   const ClusterConfig& cc) {
  check_blocks(rc, D);
  const size_t n = start_s.size();
  if (n == 0) return {};
  // pieces of piece_s by window start; a last piece under half of piece_s joins the one before
  const double end = start_s.back();
  const auto last = static_cast<int>(std::floor(end / rc.piece_s));
  const auto piece_of = [&](double t) {
    int p = static_cast<int>(std::floor(t / rc.piece_s));
    if (last > 0 && p == last && end - last * rc.piece_s < rc.piece_s / 2) --p;
    return p;
  };
  // stage 1: each piece on its own, as a short recording (its own standardisation)
  std::vector<int> local(n, 0);
  int clusters = 0;
  for (size_t i0 = 0; i0 < n;) {
    size_t i1 = i0;
    const int p = piece_of(start_s[i0]);
    while (i1 < n && piece_of(start_s[i1]) == p) ++i1;
    const size_t m = i1 - i0;
    const std::vector<float> rows(x.begin() + static_cast<std::ptrdiff_t>(i0 * D),
                                  x.begin() + static_cast<std::ptrdiff_t>(i1 * D));
    ClusterConfig one = cc;
    one.num_speakers = 0;  // the piece's own count; the bounds apply to the whole
    one.min_speakers = 1;
    one.max_speakers = std::max(1, cc.max_speakers);
    std::vector<int> lab(m, 0);
    if (m >= 2) {
      const Prepared p = prepare_rows(rows, m, D, rc);
      lab = cluster(p.rows.data(), static_cast<int64_t>(m), p.width, one);
    }
    int top = 0;
    for (size_t i = 0; i < m; ++i) {
      local[i0 + i] = clusters + lab[i];
      top = std::max(top, lab[i] + 1);
    }
    clusters += top;
    i0 = i1;
  }
  // stage 2: the pieces' clusters as unit centroids of the rows prepared over the whole
  // recording, joined by average linkage down to link_threshold (or to the speaker bounds)
  const Prepared p = prepare_rows(x, n, D, rc);
  const std::vector<float>& y = p.rows;
  const auto d = static_cast<size_t>(p.width);
  std::vector<double> sums(static_cast<size_t>(clusters) * d, 0.0), ones(clusters, 1.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < d; ++k) sums[static_cast<size_t>(local[i]) * d + k] += y[i * d + k];
  }
  for (size_t c = 0; c < static_cast<size_t>(clusters); ++c) {
    double nrm = 0;
    for (size_t k = 0; k < d; ++k) nrm += sums[c * d + k] * sums[c * d + k];
    nrm = std::sqrt(nrm);
    for (size_t k = 0; k < d && nrm > 0; ++k) sums[c * d + k] /= nrm;
  }
  std::vector<int> parent(clusters);
  std::iota(parent.begin(), parent.end(), 0);
  const auto root = [&](int c) {
    while (parent[c] != c) c = parent[c] = parent[parent[c]];
    return c;
  };
  int left = clusters;
  const int want = cc.num_speakers;
  for (const Merge& mg : average_linkage(sums, ones, clusters, static_cast<int>(p.width))) {
    const bool stop = want > 0 ? left <= want
                               : left <= cc.min_speakers ||
                                     (mg.similarity < rc.link_threshold && left <= cc.max_speakers);
    if (stop) break;
    parent[root(mg.a)] = root(mg.b);
    --left;
  }
  // numbered by first appearance, as cluster() numbers them
  std::vector<int> out(n), rename(clusters, -1);
  int next = 0;
  for (size_t i = 0; i < n; ++i) {
    int& r = rename[root(local[i])];
    if (r < 0) r = next++;
    out[i] = r;
  }
  return out;
}

std::vector<int> cluster_recording(const std::vector<float>& x, const std::vector<double>& start_s,
                                   int64_t D, double duration_s, const RecordingClusterConfig& rc,
                                   const ClusterConfig& cc) {
  if (rc.piece_s > 0 && duration_s > 2 * rc.piece_s)
    return cluster_in_pieces(x, start_s, D, rc, cc);
  check_blocks(rc, D);
  const size_t n = start_s.size();
  const Prepared p = prepare_rows(x, n, D, rc);
  return cluster(p.rows.data(), static_cast<int64_t>(n), p.width, cc);
}

}  // namespace hptrain::diarization
