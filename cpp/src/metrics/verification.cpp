// Equal error rate and minimum detection cost of verification trials (metrics/verification.h).
#include "hptrain/metrics/verification.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <unordered_set>

#include "hptrain/error.h"

namespace hptrain::metrics {

Verification verification(const std::vector<double>& scores, const std::vector<bool>& target,
                          const DcfConfig& dcf) {
  if (scores.size() != target.size()) {
    throw InputError("verification: " + std::to_string(scores.size()) + " scores for " +
                     std::to_string(target.size()) + " trials");
  }
  if (!(dcf.p_target > 0 && dcf.p_target < 1) || !(dcf.c_miss > 0) || !(dcf.c_fa > 0)) {
    throw ConfigError("verification: p_target must be in (0, 1), c_miss and c_fa > 0");
  }
  Verification v;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw InputError("verification: score " + std::to_string(i) + " is not finite");
    }
    (target[i] ? v.targets : v.nontargets) += 1;
  }
  if (v.targets == 0 || v.nontargets == 0) {
    throw InputError("verification: needs same-speaker and different-speaker trials (" +
                     std::to_string(v.targets) + " and " + std::to_string(v.nontargets) + ")");
  }
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  // operating points from "reject all" (P_miss 1, P_fa 0), then accepting every score >= t for
  // each distinct t in descending order (ref: sklearn.metrics.roc_curve, drop_intermediate off)
  std::vector<double> p_miss{1.0}, p_fa{0.0}, thr{std::numeric_limits<double>::infinity()};
  int64_t tp = 0, fp = 0;
  for (size_t k = 0; k < order.size();) {
    const double t = scores[order[k]];
    for (; k < order.size() && scores[order[k]] == t; ++k) (target[order[k]] ? tp : fp) += 1;
    p_miss.push_back(1.0 - static_cast<double>(tp) / static_cast<double>(v.targets));
    p_fa.push_back(static_cast<double>(fp) / static_cast<double>(v.nontargets));
    thr.push_back(t);
  }
  // EER: P_miss - P_fa falls from 1 to -1; the first point where it is <= 0, and the segment
  // before it (ref: wespeaker compute_eer's x1, x2 and `a`)
  size_t k = 1;
  while (p_miss[k] - p_fa[k] > 0) ++k;
  const double d0 = p_miss[k - 1] - p_fa[k - 1], d1 = p_miss[k] - p_fa[k];
  const double a = d0 / (d0 - d1);  // d0 > 0 >= d1
  v.eer = p_fa[k - 1] + a * (p_fa[k] - p_fa[k - 1]);
  const double t0 = std::isinf(thr[k - 1]) ? thr[k] : thr[k - 1];
  v.threshold = t0 + a * (thr[k] - t0);
  // ref: wespeaker compute_c_norm
  const double c_default = std::min(dcf.c_miss * dcf.p_target, dcf.c_fa * (1 - dcf.p_target));
  v.min_dcf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < p_miss.size(); ++i) {
    const double c =
        dcf.c_miss * p_miss[i] * dcf.p_target + dcf.c_fa * p_fa[i] * (1 - dcf.p_target);
    if (c < v.min_dcf) {
      v.min_dcf = c;
      v.min_dcf_threshold = thr[i];
    }
  }
  v.min_dcf /= c_default;
  return v;
}

Trials embedding_trials(const float* embeddings, int64_t n, int64_t dim,
                        const std::vector<int64_t>& labels, int64_t max_pairs, uint64_t seed) {
  if (static_cast<int64_t>(labels.size()) != n || n < 0 || dim < 1 || max_pairs < 1) {
    throw InputError("embedding trials: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(n) + " embeddings of " + std::to_string(dim) +
                     " dimensions (max_pairs " + std::to_string(max_pairs) + ")");
  }
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] >= 0) rows.push_back(i);
  }
  std::vector<double> norm(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const float* x = embeddings + rows[r] * dim;
    double s = 0;
    for (int64_t d = 0; d < dim; ++d) s += static_cast<double>(x[d]) * x[d];
    norm[r] = std::sqrt(s);
  }
  Trials out;
  const auto add = [&](size_t i, size_t j) {  // i < j, positions in rows
    const float* x = embeddings + rows[i] * dim;
    const float* y = embeddings + rows[j] * dim;
    double s = 0;
    for (int64_t d = 0; d < dim; ++d) s += static_cast<double>(x[d]) * y[d];
    const double nn = norm[i] * norm[j];
    out.scores.push_back(nn > 0 ? s / nn : 0.0);
    out.target.push_back(labels[rows[i]] == labels[rows[j]]);
    out.pairs.emplace_back(rows[i], rows[j]);
  };
  const auto m = static_cast<int64_t>(rows.size());
  const int64_t total = m * (m - 1) / 2;
  if (total <= max_pairs) {
    for (int64_t j = 1; j < m; ++j) {
      for (int64_t i = 0; i < j; ++i) add(static_cast<size_t>(i), static_cast<size_t>(j));
    }
    return out;
  }
  // pair number p = j (j - 1) / 2 + i for i < j; max_pairs distinct numbers, in drawing order
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, total - 1);
  std::unordered_set<int64_t> seen;
  while (static_cast<int64_t>(seen.size()) < max_pairs) {
    const int64_t p = pick(rng);
    if (!seen.insert(p).second) continue;
    auto j = static_cast<int64_t>((1 + std::sqrt(1 + 8.0 * static_cast<double>(p))) / 2);
    while (j * (j - 1) / 2 > p) --j;
    while ((j + 1) * j / 2 <= p) ++j;
    add(static_cast<size_t>(p - j * (j - 1) / 2), static_cast<size_t>(j));
  }
  return out;
}

}  // namespace hptrain::metrics
