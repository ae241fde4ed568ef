// Scores of speaker embeddings against enrolled models (a cast's centroids), by one of three
// methods: the raw cosine; the cosine after centring both sides on an impostor cohort's mean
// (WeSpeaker's "cosine (sub mean)"); or adaptive symmetric normalisation of that centred cosine
// (AS-norm: Matejka et al., Interspeech 2017; ref: wenet-e2e/wespeaker wespeaker/bin/
// score_norm.py get_mean_std and main). Embeddings [n, dim] float32 row-major, any norm.
//
//   as-norm(a, b) = 0.5 ((s - m_a) / d_a + (s - m_b) / d_b),  s = cos(â - mu, b̂ - mu)
//
// where x̂ is x unit-normalised (an embedding counts by its direction, as for the cosine: a sum
// of unit windows scores as their mean), mu is the mean of the cohort's unit rows and m_x, d_x are
// the mean and the population standard deviation (numpy's std) of the top_n highest centred cosines
// of x against the cohort. A normalised score is in "standard deviations above the impostors most
// like either side", so a threshold on it means the same for clean lines and film mixes where raw
// cosines do not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hptrain::metrics {

inline const std::string kScoreCosine = "cosine";
inline const std::string kScoreCentred = "centred";
inline const std::string kScoreAsNorm = "as-norm";

struct ScoreNormConfig {
  // "cosine" (no cohort), "centred" or "as-norm" (a cohort of impostor embeddings)
  std::string method = kScoreAsNorm;
  // as-norm: the highest cohort scores of each side that give its mean and standard deviation
  // (all the cohort when it has fewer rows); WeSpeaker's recipes use 200 to 400 of 2,000 to
  // 3,000 cohort rows
  int64_t top_n = 300;
  void validate() const;  // ConfigError naming the field
};

// A method with its cohort, ready to score embeddings against a set of models.
class Scorer {
 public:
  // One embedding as the method sees it: unit-normalised, centred on the cohort's mean and
  // unit-normalised again (cosine: not centred),
  // with its cohort statistics (as-norm; mean 0 and std 1 otherwise).
  struct Side {
    std::vector<double> x;
    double mean = 0, std = 1;
  };

  // `cohort` [n_cohort, dim]: impostor embeddings (voices none of the models is), each row
  // unit-normalised here; needed for centred and as-norm (at least 2 rows: InputError),
  // ignored by cosine. ConfigError for a bad config, InputError for dim < 1 or a zero row.
  Scorer(const ScoreNormConfig& cfg, const float* cohort, int64_t n_cohort, int64_t dim);

  const ScoreNormConfig& config() const { return cfg_; }
  int64_t dim() const { return dim_; }
  Side side(const float* e) const;
  double score(const Side& a, const Side& b) const;

  // The models (e.g. a cast's centroids) [m, dim] that scores() compares with.
  void set_models(const float* models, int64_t m);
  int64_t models() const { return static_cast<int64_t>(models_.size()); }
  // The score of `e` [dim] against each model, in set_models' order.
  std::vector<double> scores(const float* e) const;

 private:
  ScoreNormConfig cfg_;
  int64_t dim_ = 0;
  std::vector<double> mean_;    // [dim]: the cohort's mean (zeros for cosine)
  std::vector<double> cohort_;  // [n, dim]: centred, unit rows (as-norm only)
  int64_t n_cohort_ = 0;
  std::vector<Side> models_;
};

}  // namespace hptrain::metrics
