// Cosine, centred cosine and AS-norm scores (metrics/score_norm.h) on 2-dimensional embeddings
// whose scores are worked out by hand; bad configs and cohorts.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/metrics/score_norm.h"

namespace hptrain::metrics {
namespace {

constexpr double kTol = 1e-6;  // float inputs, double arithmetic

ScoreNormConfig config(const std::string& method, int64_t top_n = 300) {
  ScoreNormConfig c;
  c.method = method;
  c.top_n = top_n;
  return c;
}

TEST(ScoreNorm, CosineIgnoresTheCohortAndTheNorm) {
  const Scorer s(config(kScoreCosine), nullptr, 0, 2);
  const float a[] = {2.0f, 0.0f}, b[] = {0.6f, 0.8f};
  EXPECT_NEAR(s.score(s.side(a), s.side(b)), 0.6, kTol);
}

TEST(ScoreNorm, CentredOnTheCohortMean) {
  // cohort (1,0), (0,1): mean (0.5, 0.5). (1,1)/sqrt2 - mean = (0.2071, 0.2071); (0.6,0.8) -
  // mean = (0.1, 0.3): cosine 0.4 / (sqrt2 sqrt0.1) = 0.894427
  const float cohort[] = {1, 0, 0, 1};
  const Scorer s(config(kScoreCentred), cohort, 2, 2);
  const float a[] = {0.70710678f, 0.70710678f}, b[] = {0.6f, 0.8f};
  EXPECT_NEAR(s.score(s.side(a), s.side(b)), 0.4 / std::sqrt(0.2), kTol);
  // an embedding counts by its direction (a sum of unit windows as their mean)
  const float b3[] = {1.8f, 2.4f};
  EXPECT_NEAR(s.score(s.side(a), s.side(b3)), 0.4 / std::sqrt(0.2), kTol);
  // (1,0) and (0,1) centred: (0.5,-0.5) and (-0.5,0.5), opposite (raw cosine 0)
  const float x[] = {1, 0}, y[] = {0, 1};
  EXPECT_NEAR(s.score(s.side(x), s.side(y)), -1.0, kTol);
  // cohort rows are unit-normalised before the mean: (2,0) counts as (1,0)
  const float scaled[] = {2, 0, 0, 1};
  const Scorer t(config(kScoreCentred), scaled, 2, 2);
  EXPECT_NEAR(t.score(t.side(a), t.side(b)), 0.4 / std::sqrt(0.2), kTol);
}

TEST(ScoreNorm, AsNormWorkedByHand) {
  // cohort (1,0), (0,1), (-1,0), (0,-1): mean 0, so centring changes nothing
  const float cohort[] = {1, 0, 0, 1, -1, 0, 0, -1};
  const float a[] = {1, 0}, b[] = {0.6f, 0.8f};  // raw cosine 0.6
  // top 2: a's cohort scores {1, 0, -1, 0} -> {1, 0}: mean 0.5, std 0.5; b's {0.6, 0.8, -0.6,
  // -0.8} -> {0.8, 0.6}: mean 0.7, std 0.1. 0.5 ((0.6-0.5)/0.5 + (0.6-0.7)/0.1) = -0.4
  const Scorer s(config(kScoreAsNorm, 2), cohort, 4, 2);
  const auto sa = s.side(a), sb = s.side(b);
  EXPECT_NEAR(sa.mean, 0.5, kTol);
  EXPECT_NEAR(sa.std, 0.5, kTol);
  EXPECT_NEAR(sb.mean, 0.7, kTol);
  EXPECT_NEAR(sb.std, 0.1, kTol);
  EXPECT_NEAR(s.score(sa, sb), -0.4, kTol);
  EXPECT_NEAR(s.score(sb, sa), -0.4, kTol);  // symmetric
  // top_n above the cohort's size: all of it (s-norm): both means 0, both stds sqrt(0.5);
  // 0.6 / sqrt(0.5) = 0.848528
  const Scorer all(config(kScoreAsNorm, 300), cohort, 4, 2);
  EXPECT_NEAR(all.score(all.side(a), all.side(b)), 0.6 / std::sqrt(0.5), kTol);
  // scores() against models, in their order
  Scorer m(config(kScoreAsNorm, 2), cohort, 4, 2);
  const float models[] = {1, 0, 0, 1};
  m.set_models(models, 2);
  ASSERT_EQ(m.models(), 2);
  const auto v = m.scores(b);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NEAR(v[0], -0.4, kTol);
  // (0,1) against b: s = 0.8, the model's side is (0,1)'s: {0, 1, 0, -1} -> {1, 0}: mean 0.5,
  // std 0.5; 0.5 ((0.8-0.5)/0.5 + (0.8-0.7)/0.1) = 0.8
  EXPECT_NEAR(v[1], 0.8, kTol);
}

TEST(ScoreNorm, BadConfigsAndCohorts) {
  const float cohort[] = {1, 0, 0, 1};
  EXPECT_THROW(Scorer(config("plda"), cohort, 2, 2), ConfigError);
  EXPECT_THROW(Scorer(config(kScoreAsNorm, 1), cohort, 2, 2), ConfigError);
  EXPECT_THROW(Scorer(config(kScoreAsNorm), cohort, 1, 2), InputError);
  EXPECT_THROW(Scorer(config(kScoreCentred), nullptr, 0, 2), InputError);
  EXPECT_THROW(Scorer(config(kScoreCosine), nullptr, 0, 0), InputError);
  const float zero_row[] = {0, 0, 0, 1};
  EXPECT_THROW(Scorer(config(kScoreAsNorm), zero_row, 2, 2), InputError);
  // an embedding at the cohort's mean has no direction once centred
  const float same[] = {1, 0, 1, 0};
  const Scorer s(config(kScoreCentred), same, 2, 2);
  const float at_mean[] = {2.0f, 0.0f};
  EXPECT_THROW(s.side(at_mean), InputError);
  EXPECT_THROW(Scorer(config(kScoreAsNorm), same, 2, 2), InputError);  // its rows, centred
}

}  // namespace
}  // namespace hptrain::metrics
