// EER, its threshold and the normalised minDCF: cases worked by hand, and seeded cases whose
// reference values scikit-learn's roc_curve points gave (scripts/gen_verification_fixtures.py
// -> tests/data/verification_sklearn.json); the trials of labelled embeddings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/verification.h"
#include "support/support.h"

namespace hptrain::metrics {
namespace {

// Targets 0.9, 0.8, 0.4; non-targets 0.7, 0.5. Operating points (P_miss, P_fa) from reject all:
// (1, 0), 0.9: (2/3, 0), 0.8: (1/3, 0), 0.7: (1/3, 1/2), ... The EER lies on the segment from
// 0.8 to 0.7 where P_fa reaches 1/3: a = (1/3) / (1/3 + 1/6) = 2/3, EER = 2/3 * 1/2 = 1/3,
// threshold 0.8 - 2/3 * 0.1. minDCF (p 0.01): (0.01 P_miss + 0.99 P_fa) / 0.01 is least at
// 0.8: 1/3.
TEST(Verification, WorkedByHand) {
  const auto v = verification({0.9, 0.8, 0.4, 0.7, 0.5}, {true, true, true, false, false});
  EXPECT_EQ(v.targets, 3);
  EXPECT_EQ(v.nontargets, 2);
  EXPECT_NEAR(v.eer, 1.0 / 3, 1e-12);
  EXPECT_NEAR(v.threshold, 0.8 - 0.2 / 3, 1e-12);
  EXPECT_NEAR(v.min_dcf, 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(v.min_dcf_threshold, 0.8);

  // a point exactly on P_miss = P_fa: targets 0.9, 0.8, 0.3; non-targets 0.7, 0.2, 0.1:
  // at 0.7, P_miss = P_fa = 1/3
  const auto on =
      verification({0.9, 0.8, 0.3, 0.7, 0.2, 0.1}, {true, true, true, false, false, false});
  EXPECT_NEAR(on.eer, 1.0 / 3, 1e-12);
  EXPECT_NEAR(on.threshold, 0.7, 1e-12);

  // separated: EER 0 at the lowest target score; minDCF 0
  const auto sep = verification({0.2, 0.9, 0.1, 0.6}, {false, true, false, true});
  EXPECT_EQ(sep.eer, 0.0);
  EXPECT_NEAR(sep.threshold, 0.6, 1e-12);
  EXPECT_EQ(sep.min_dcf, 0.0);

  // reversed: every non-target above every target: EER 1; minDCF 1 (reject all), whose
  // threshold is +inf
  const auto rev = verification({0.9, 0.1}, {false, true});
  EXPECT_NEAR(rev.eer, 1.0, 1e-12);
  EXPECT_NEAR(rev.min_dcf, 1.0, 1e-12);
  EXPECT_TRUE(std::isinf(rev.min_dcf_threshold));

  // the cost: p_target 0.5 normalises by 0.5; at 0.8: 0.5 * 1/3 / 0.5 = 1/3; at 0.4 (accept
  // all but nothing): P_miss 0, P_fa 1 -> 1; at 0.7: (1/3 + 1/2) = 5/6. Least: 1/3.
  DcfConfig half;
  half.p_target = 0.5;
  EXPECT_NEAR(
      verification({0.9, 0.8, 0.4, 0.7, 0.5}, {true, true, true, false, false}, half).min_dcf,
      1.0 / 3, 1e-12);
}

TEST(Verification, MatchesScikitLearnsRocPoints) {
  const auto doc =
      nlohmann::json::parse(fs::read_text(test::data_path("verification_sklearn.json")));
  ASSERT_GE(doc.at("cases").size(), 5u);
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name");
    DcfConfig dcf;
    dcf.p_target = c.at("p_target");
    const auto v = verification(c.at("scores").get<std::vector<double>>(),
                                c.at("target").get<std::vector<bool>>(), dcf);
    // the same points and formulas: only rounding of the interpolation differs
    EXPECT_NEAR(v.eer, c.at("eer").get<double>(), 1e-12) << name;
    EXPECT_NEAR(v.threshold, c.at("threshold").get<double>(), 1e-9) << name;
    EXPECT_NEAR(v.min_dcf, c.at("min_dcf").get<double>(), 1e-12) << name;
    if (c.at("min_dcf_threshold").is_null()) {
      EXPECT_TRUE(std::isinf(v.min_dcf_threshold)) << name;
    } else {
      EXPECT_NEAR(v.min_dcf_threshold, c.at("min_dcf_threshold").get<double>(), 1e-12) << name;
    }
  }
}

TEST(Verification, BadTrialsAreErrors) {
  EXPECT_THROW(verification({0.1, 0.2}, {true}), InputError);
  EXPECT_THROW(verification({0.1, 0.2}, {true, true}), InputError);  // no non-target
  EXPECT_THROW(verification({}, {}), InputError);
  EXPECT_THROW(verification({0.1, std::nan("")}, {true, false}), InputError);
}

// Four unit vectors in 2-D: rows 0 and 1 of speaker 0, row 2 of speaker 1, row 3 background.
TEST(Verification, TrialsOfEveryPairOfLabelledRows) {
  const std::vector<float> e = {1, 0, 0.6f, 0.8f, 0, 1, -1, 0};
  const auto t = embedding_trials(e.data(), 4, 2, {0, 0, 1, -1});
  ASSERT_EQ(t.scores.size(), 3u);  // (0,1), (0,2), (1,2); row 3 takes no part
  EXPECT_NEAR(t.scores[0], 0.6, 1e-6);
  EXPECT_TRUE(t.target[0]);
  EXPECT_NEAR(t.scores[1], 0.0, 1e-6);
  EXPECT_FALSE(t.target[1]);
  EXPECT_NEAR(t.scores[2], 0.8, 1e-6);
  EXPECT_FALSE(t.target[2]);
  // not normalised: cosine all the same
  const std::vector<float> scaled = {2, 0, 3, 4, 0, 1, -1, 0};
  EXPECT_NEAR(embedding_trials(scaled.data(), 4, 2, {0, 0, 1, -1}).scores[0], 0.6, 1e-6);
  EXPECT_THROW(embedding_trials(e.data(), 4, 2, {0, 0}), InputError);
}

// More pairs than max_pairs: that many distinct pairs, the same ones for the same seed, each
// score the cosine of its pair (1 for same-label rows here, where each label has one vector).
TEST(Verification, SampledTrialsAreDistinctAndSeeded) {
  const int64_t n = 60, dim = 3;
  std::vector<float> e(n * dim);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = i % 4;
    for (int64_t d = 0; d < dim; ++d) e[i * dim + d] = static_cast<float>(d == i % 3 ? 1 : 0);
    e[i * dim + 0] += static_cast<float>(labels[i]);  // same label -> same vector
  }
  const auto a = embedding_trials(e.data(), n, dim, labels, 500, 7);
  const auto b = embedding_trials(e.data(), n, dim, labels, 500, 7);
  const auto c = embedding_trials(e.data(), n, dim, labels, 500, 8);
  ASSERT_EQ(a.scores.size(), 500u);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.target, b.target);
  EXPECT_NE(a.scores, c.scores);
  const auto all = embedding_trials(e.data(), n, dim, labels);
  ASSERT_EQ(all.scores.size(), static_cast<size_t>(n * (n - 1) / 2));
  // each sampled trial is one of all's (as a multiset of (score, target) values, counts allow)
  std::multiset<std::pair<double, bool>> pool;
  for (size_t i = 0; i < all.scores.size(); ++i) pool.insert({all.scores[i], all.target[i]});
  for (size_t i = 0; i < a.scores.size(); ++i) {
    const auto it = pool.find({a.scores[i], a.target[i]});
    ASSERT_NE(it, pool.end()) << i;
    pool.erase(it);
  }
}

}  // namespace
}  // namespace hptrain::metrics
