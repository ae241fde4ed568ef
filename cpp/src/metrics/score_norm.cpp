// Cosine, centred cosine and AS-norm scores of embeddings against models (metrics/score_norm.h).
#include "hptrain/metrics/score_norm.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "hptrain/error.h"

namespace hptrain::metrics {
namespace {

// the population standard deviation of a side whose top cohort scores are all equal would be
// 0: a floor keeps the score finite (such a cohort says nothing about the side's spread)
constexpr double kMinStd = 1e-6;

// (e - mean) / |e - mean|
std::vector<double> unit(const float* e, int64_t dim, const std::vector<double>& mean,
                         const char* what) {
  std::vector<double> x(static_cast<size_t>(dim));
  double n = 0;
  for (int64_t d = 0; d < dim; ++d) {
    x[d] = static_cast<double>(e[d]) - mean[d];
    n += x[d] * x[d];
  }
  n = std::sqrt(n);
  if (!(n > 0) || !std::isfinite(n)) {
    throw InputError(std::string("score normalisation: ") + what +
                     " embedding has norm 0 (or not finite)");
  }
  for (double& v : x) v /= n;
  return x;
}

}  // namespace

void ScoreNormConfig::validate() const {
  if (method != kScoreCosine && method != kScoreCentred && method != kScoreAsNorm) {
    throw ConfigError("scoring = '" + method + "': must be cosine, centred or as-norm");
  }
  if (top_n < 2) {
    throw ConfigError("top_n = " + std::to_string(top_n) +
                      ": must be >= 2 (a standard deviation of the top cohort scores)");
  }
}

Scorer::Scorer(const ScoreNormConfig& cfg, const float* cohort, int64_t n_cohort, int64_t dim)
    : cfg_(cfg), dim_(dim) {
  cfg_.validate();
  if (dim < 1)
    throw InputError("score normalisation: embeddings of " + std::to_string(dim) + " dimensions");
  mean_.assign(static_cast<size_t>(dim), 0.0);
  if (cfg_.method == kScoreCosine) return;
  if (n_cohort < 2 || cohort == nullptr) {
    throw InputError("score normalisation '" + cfg_.method + "': a cohort of " +
                     std::to_string(n_cohort) + " embeddings (at least 2 needed)");
  }
  // ref: score_norm.py normalises the cohort rows; the mean is of the unit rows
  std::vector<double> rows;
  rows.reserve(static_cast<size_t>(n_cohort * dim));
  const std::vector<double> zero(static_cast<size_t>(dim), 0.0);
  for (int64_t i = 0; i < n_cohort; ++i) {
    const auto u = unit(cohort + i * dim, dim, zero, "a cohort");
    for (int64_t d = 0; d < dim; ++d) mean_[d] += u[d];
    rows.insert(rows.end(), u.begin(), u.end());
  }
  for (double& m : mean_) m /= static_cast<double>(n_cohort);
  if (cfg_.method != kScoreAsNorm) return;
  n_cohort_ = n_cohort;
  cohort_.reserve(rows.size());
  std::vector<float> r(static_cast<size_t>(dim));
  for (int64_t i = 0; i < n_cohort; ++i) {
    for (int64_t d = 0; d < dim; ++d) r[d] = static_cast<float>(rows[i * dim + d]);
    const auto u = unit(r.data(), dim, mean_, "a cohort");
    cohort_.insert(cohort_.end(), u.begin(), u.end());
  }
}

Scorer::Side Scorer::side(const float* e) const {
  Side s;
  // by its direction, as the cohort's rows: a sum of windows scores as their mean
  const std::vector<double> zero(static_cast<size_t>(dim_), 0.0);
  s.x = unit(e, dim_, zero, "an");
  for (int64_t d = 0; d < dim_; ++d) s.x[d] -= mean_[d];
  if (cfg_.method != kScoreCosine) {
    double n = 0;
    for (double v : s.x) n += v * v;
    n = std::sqrt(n);
    if (!(n > 0)) {
      throw InputError(
          "score normalisation: an embedding lies at the cohort's mean (nothing is "
          "left of it once centred)");
    }
    for (double& v : s.x) v /= n;
  }
  if (cfg_.method != kScoreAsNorm) return s;
  std::vector<double> c(static_cast<size_t>(n_cohort_));
  for (int64_t i = 0; i < n_cohort_; ++i) {
    double v = 0;
    for (int64_t d = 0; d < dim_; ++d) v += s.x[d] * cohort_[i * dim_ + d];
    c[i] = v;
  }
  const int64_t k = std::min(cfg_.top_n, n_cohort_);
  std::partial_sort(c.begin(), c.begin() + k, c.end(), std::greater<>());
  double m = 0;
  for (int64_t i = 0; i < k; ++i) m += c[i];
  m /= static_cast<double>(k);
  double var = 0;
  for (int64_t i = 0; i < k; ++i) var += (c[i] - m) * (c[i] - m);
  s.mean = m;
  s.std = std::max(std::sqrt(var / static_cast<double>(k)), kMinStd);  // numpy's std (ddof 0)
  return s;
}

double Scorer::score(const Side& a, const Side& b) const {
  double s = 0;
  for (int64_t d = 0; d < dim_; ++d) s += a.x[d] * b.x[d];
  if (cfg_.method != kScoreAsNorm) return s;
  return 0.5 * ((s - a.mean) / a.std + (s - b.mean) / b.std);
}

void Scorer::set_models(const float* models, int64_t m) {
  models_.clear();
  for (int64_t i = 0; i < m; ++i) models_.push_back(side(models + i * dim_));
}

std::vector<double> Scorer::scores(const float* e) const {
  const Side s = side(e);
  std::vector<double> out;
  out.reserve(models_.size());
  for (const auto& m : models_) out.push_back(score(s, m));
  return out;
}

}  // namespace hptrain::metrics
