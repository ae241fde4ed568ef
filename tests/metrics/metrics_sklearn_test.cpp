// Metrics against scikit-learn: tests/data/metrics_sklearn.json holds seeded cases (binary,
// four classes of unequal sizes, a class never predicted, a class never a label) with the values
// scikit-learn computed (scripts/gen_metric_fixtures.py wrote it; the file names the version).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hptrain/fs.h"
#include "hptrain/metrics/metrics.h"
#include "support/support.h"

namespace hptrain::metrics {
namespace {

// Sums and quotients of small integers, so only the last bits of the summation order may differ
// from numpy's.
constexpr double kExact = 1e-12;

struct Case {
  nlohmann::json j;
  std::vector<int64_t> labels;
  std::vector<float> probs;
  std::vector<std::string> classes;
  std::string name() const { return j.at("name").get<std::string>(); }
};

std::vector<Case> load_cases() {
  const auto doc = nlohmann::json::parse(fs::read_text(test::data_path("metrics_sklearn.json")));
  std::vector<Case> out;
  for (const auto& j : doc.at("cases")) {
    Case c;
    c.j = j;
    c.labels = j.at("labels").get<std::vector<int64_t>>();
    for (const auto& row : j.at("probs")) {
      for (double v : row) c.probs.push_back(static_cast<float>(v));  // exact: v is a float32
    }
    for (int k = 0; k < j.at("classes").get<int>(); ++k)
      c.classes.push_back("c" + std::to_string(k));
    out.push_back(std::move(c));
  }
  return out;
}

TEST(MetricsVsScikitLearn, FixtureIsComplete) {
  const auto doc = nlohmann::json::parse(fs::read_text(test::data_path("metrics_sklearn.json")));
  EXPECT_FALSE(doc.at("sklearn").get<std::string>().empty());
  const auto cases = load_cases();
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& c : cases) {
    EXPECT_EQ(c.probs.size(), c.labels.size() * c.classes.size()) << c.name();
  }
}

TEST(MetricsVsScikitLearn, EveryValueMatches) {
  for (const auto& c : load_cases()) {
    SCOPED_TRACE(c.name() + ": " + c.j.at("note").get<std::string>());
    const auto m = evaluate(c.labels, c.probs, c.classes);
    const auto& j = c.j;
    EXPECT_EQ(m.n, static_cast<int64_t>(c.labels.size()));
    EXPECT_EQ(m.confusion, j.at("confusion").get<std::vector<std::vector<int64_t>>>());
    EXPECT_NEAR(m.accuracy, j.at("accuracy").get<double>(), kExact);
    EXPECT_NEAR(m.precision_macro, j.at("precision_macro").get<double>(), kExact);
    EXPECT_NEAR(m.recall_macro, j.at("recall_macro").get<double>(), kExact);
    EXPECT_NEAR(m.f1_macro, j.at("f1_macro").get<double>(), kExact);
    EXPECT_NEAR(m.precision_weighted, j.at("precision_weighted").get<double>(), kExact);
    EXPECT_NEAR(m.recall_weighted, j.at("recall_weighted").get<double>(), kExact);
    EXPECT_NEAR(m.f1_weighted, j.at("f1_weighted").get<double>(), kExact);
    ASSERT_EQ(m.per_class.size(), c.classes.size());
    for (size_t k = 0; k < c.classes.size(); ++k) {
      const auto& e = j.at("per_class")[k];
      EXPECT_NEAR(m.per_class[k].precision, e.at("precision").get<double>(), kExact) << k;
      EXPECT_NEAR(m.per_class[k].recall, e.at("recall").get<double>(), kExact) << k;
      EXPECT_NEAR(m.per_class[k].f1, e.at("f1").get<double>(), kExact) << k;
      EXPECT_EQ(m.per_class[k].support, e.at("support").get<int64_t>()) << k;
      const auto& auc = j.at("roc_auc_per_class")[k];
      ASSERT_EQ(m.roc_auc_per_class[k].has_value(), !auc.is_null()) << k;
      if (!auc.is_null()) {
        EXPECT_NEAR(*m.roc_auc_per_class[k], auc.get<double>(), kExact) << k;
      }
    }
    ASSERT_TRUE(m.roc_auc.has_value());
    EXPECT_NEAR(*m.roc_auc, j.at("roc_auc").get<double>(), kExact);
    const auto fpr = j.at("roc_class0_fpr").get<std::vector<double>>();
    const auto tpr = j.at("roc_class0_tpr").get<std::vector<double>>();
    ASSERT_EQ(m.roc[0].fpr.size(), fpr.size());
    for (size_t i = 0; i < fpr.size(); ++i) {
      EXPECT_NEAR(m.roc[0].fpr[i], fpr[i], kExact) << i;
      EXPECT_NEAR(m.roc[0].tpr[i], tpr[i], kExact) << i;
    }
  }
}

TEST(MetricsVsScikitLearn, CasesCoverWhatTheyClaim) {
  // the fixture's cases keep their point: unequal sizes, a class never predicted, one never a
  // label (so macro and weighted averages, and AUC over k or over the defined classes, differ)
  const auto cases = load_cases();
  for (const auto& c : cases) {
    const auto m = evaluate(c.labels, c.probs, c.classes);
    EXPECT_GT(std::abs(m.f1_macro - m.f1_weighted), 1e-3) << c.name();
    EXPECT_GT(std::abs(m.precision_macro - m.precision_weighted), 1e-3) << c.name();
    EXPECT_GT(std::abs(m.recall_macro - m.recall_weighted), 1e-3) << c.name();
  }
  const auto never_predicted = evaluate(cases[2].labels, cases[2].probs, cases[2].classes);
  for (const auto& row : never_predicted.confusion) EXPECT_EQ(row[2], 0);
  const auto never_label = evaluate(cases[3].labels, cases[3].probs, cases[3].classes);
  EXPECT_EQ(never_label.per_class[3].support, 0);
  EXPECT_FALSE(never_label.roc_auc_per_class[3].has_value());
}

}  // namespace
}  // namespace hptrain::metrics
