// Metrics against hand-computed cases (sklearn's definitions): F1 with a class never
// predicted, ROC-AUC with ties, one-vs-rest macro AUC, and the metric files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/files.h"
#include "hptrain/metrics/metrics.h"
#include "hptrain/metrics/plots.h"
#include "support/support.h"

namespace hptrain::metrics {
namespace {

// One-hot-ish probabilities that put `p` on the predicted class.
std::vector<float> probs_for(const std::vector<int64_t>& predicted, int k, float p = 0.8f) {
  std::vector<float> out;
  for (int64_t c : predicted) {
    for (int j = 0; j < k; ++j) out.push_back(j == c ? p : (1 - p) / (k - 1));
  }
  return out;
}

TEST(Metrics, ConfusionAndScoresWithClassNeverPredicted) {
  // labels 0 0 1 1 2 2, predicted 0 1 1 1 0 0: class 2 is never predicted.
  const std::vector<int64_t> y = {0, 0, 1, 1, 2, 2}, p = {0, 1, 1, 1, 0, 0};
  const auto m = evaluate(y, probs_for(p, 3), {"a", "b", "c"});
  const std::vector<std::vector<int64_t>> expect = {{1, 1, 0}, {0, 2, 0}, {2, 0, 0}};
  EXPECT_EQ(m.confusion, expect);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  // a: P 1/3 R 1/2 F1 0.4; b: P 2/3 R 1 F1 0.8; c: P 0 (zero division) R 0 F1 0
  EXPECT_NEAR(m.per_class[0].precision, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.per_class[0].f1, 0.4, 1e-12);
  EXPECT_NEAR(m.per_class[1].f1, 0.8, 1e-12);
  EXPECT_EQ(m.per_class[2].precision, 0.0);
  EXPECT_EQ(m.per_class[2].f1, 0.0);
  EXPECT_NEAR(m.precision_macro, (1.0 / 3 + 2.0 / 3 + 0) / 3, 1e-12);
  EXPECT_NEAR(m.recall_macro, (0.5 + 1 + 0) / 3, 1e-12);
  EXPECT_NEAR(m.f1_macro, 0.4, 1e-12);
  EXPECT_NEAR(m.f1_weighted, (2 * 0.4 + 2 * 0.8) / 6, 1e-12);
}

TEST(Metrics, ClassAbsentFromLabelsAndPredictionsIsLeftOutOfMacro) {
  // sklearn: f1_score(average='macro') uses the labels present in y_true or y_pred.
  const std::vector<int64_t> y = {0, 1, 1, 0}, p = {0, 1, 0, 0};
  const auto m = evaluate(y, probs_for(p, 3), {"a", "b", "unused"});
  // a: P 2/3 R 1 F1 0.8; b: P 1 R 1/2 F1 2/3
  EXPECT_NEAR(m.f1_macro, (0.8 + 2.0 / 3) / 2, 1e-12);
  EXPECT_EQ(m.per_class[2].support, 0);
  EXPECT_FALSE(m.roc_auc_per_class[2].has_value());  // no positives
  // Macro over the two defined classes, worked by hand (sklearn.metrics.roc_auc_score of each
  // column gives the same): a's scores 0.8 0.1 0.8 0.8 with positives {0.8, 0.8} against
  // negatives {0.1, 0.8} -> (1 + .5 + 1 + .5) / 4 = 0.75; b's 0.1 0.8 0.1 0.1 with positives
  // {0.8, 0.1} against {0.1, 0.1} -> (1 + 1 + .5 + .5) / 4 = 0.75. Dividing by k gives 0.5.
  ASSERT_TRUE(m.roc_auc_per_class[0].has_value());
  ASSERT_TRUE(m.roc_auc_per_class[1].has_value());
  EXPECT_NEAR(*m.roc_auc_per_class[0], 0.75, 1e-12);
  EXPECT_NEAR(*m.roc_auc_per_class[1], 0.75, 1e-12);
  ASSERT_TRUE(m.roc_auc.has_value());
  EXPECT_NEAR(*m.roc_auc, 0.75, 1e-12);
}

TEST(Metrics, RocAucWithTies) {
  // Worked by hand (sklearn.metrics.roc_auc_score([0,0,1,1,0,1], [0.1,0.4,0.4,0.8,0.8,0.3])
  // prints 0.5555555555555556 with scikit-learn 1.2.1): pairs (pos, neg): 0.4 vs {0.1 win, 0.4 tie,
  // 0.8 loss}, 0.8 vs {win, win, tie}, 0.3 vs {win, loss, loss} -> (1 + .5 + 0 + 1 + 1 + .5 + 1 + 0
  // + 0) / 9 = 5/9.
  const std::vector<bool> pos = {false, false, true, true, false, true};
  const std::vector<double> s = {0.1, 0.4, 0.4, 0.8, 0.8, 0.3};
  ASSERT_TRUE(roc_auc(pos, s).has_value());
  EXPECT_NEAR(*roc_auc(pos, s), 5.0 / 9.0, 1e-12);
  // All scores equal: every pair a tie.
  EXPECT_NEAR(*roc_auc(pos, std::vector<double>(6, 0.5)), 0.5, 1e-12);
  EXPECT_FALSE(roc_auc({true, true}, {0.1, 0.2}).has_value());
}

// A NaN score equals nothing, not even itself: the tie loops once never ended on one.
TEST(Metrics, NonFiniteScoresAreRefusedNotLoopedOn) {
  const std::vector<bool> pos = {false, true, true};
  const std::vector<double> nan_score = {0.1, std::nan(""), 0.7};
  EXPECT_THROW(roc_auc(pos, nan_score), InputError);
  EXPECT_THROW(roc_curve(pos, nan_score), InputError);
  const std::vector<float> probs = {0.9f, 0.1f, std::nanf(""), std::nanf("")};
  try {
    evaluate({0, 1}, probs, {"a", "b"});
    ADD_FAILURE() << "NaN probabilities accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("example 1 for class 'a'"), std::string::npos) << e.what();
  }
}

TEST(Metrics, RocCurveTrapezoidEqualsRankAuc) {
  const std::vector<bool> pos = {false, false, true, true, false, true};
  const std::vector<double> s = {0.1, 0.4, 0.4, 0.8, 0.8, 0.3};
  const auto r = roc_curve(pos, s);
  // thresholds inf, 0.8, 0.4, 0.3, 0.1
  ASSERT_EQ(r.fpr.size(), 5u);
  EXPECT_TRUE(std::isinf(r.thresholds[0]));
  EXPECT_NEAR(r.fpr[1], 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.tpr[1], 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.fpr[2], 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.tpr[2], 2.0 / 3, 1e-12);
  double area = 0;
  for (size_t i = 1; i < r.fpr.size(); ++i) {
    area += (r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1]) / 2;
  }
  EXPECT_NEAR(area, *roc_auc(pos, s), 1e-12);
  EXPECT_DOUBLE_EQ(r.fpr.back(), 1.0);
  EXPECT_DOUBLE_EQ(r.tpr.back(), 1.0);
}

TEST(Metrics, BinaryAucUsesSecondClassAndMulticlassIsOvrMacro) {
  const std::vector<int64_t> y = {0, 1, 1, 0};
  const std::vector<float> pb = {0.9f, 0.1f, 0.3f, 0.7f, 0.6f, 0.4f, 0.2f, 0.8f};
  // scores of class 1: 0.1 (neg) 0.7 (pos) 0.4 (pos) 0.8 (neg): pairs 0.7>0.1, 0.7<0.8,
  // 0.4>0.1, 0.4<0.8 -> 0.5
  EXPECT_NEAR(*evaluate(y, pb, {"no", "yes"}).roc_auc, 0.5, 1e-12);

  const std::vector<int64_t> y3 = {0, 1, 2};
  const std::vector<float> p3 = {0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f, 0.5f, 0.1f, 0.4f};
  const auto m = evaluate(y3, p3, {"a", "b", "c"});
  // class a: pos 0.6 vs neg {0.2, 0.5} -> 1; b: 0.5 vs {0.3, 0.1} -> 1;
  // c: 0.4 vs {0.1, 0.3} -> 1
  EXPECT_NEAR(*m.roc_auc, 1.0, 1e-12);
  EXPECT_NEAR(m.accuracy, 2.0 / 3, 1e-12);  // the third example (c) is predicted a
}

TEST(Metrics, ArgmaxTakesTheFirstOnTies) {
  const auto m = evaluate({1}, {0.5f, 0.5f}, {"a", "b"});
  EXPECT_EQ(m.confusion[1][0], 1);
}

TEST(Metrics, BadInputIsAnError) {
  EXPECT_THROW(evaluate({3}, {0.5f, 0.5f}, {"a", "b"}), InputError);
  EXPECT_THROW(evaluate({0, 1}, {0.5f, 0.5f}, {"a", "b"}), InputError);
}

TEST(MetricFiles, JsonAndCsvHoldTheValues) {
  test::TempDir dir;
  const std::vector<int64_t> y = {0, 0, 1, 1, 2, 2}, p = {0, 1, 1, 1, 0, 0};
  const auto m = evaluate(y, probs_for(p, 3), {"a", "b,c", "d"});
  write_metrics_json(dir / "metrics.json", {{"experiment", "x"}}, {{"scene", m}});
  const auto j = nlohmann::json::parse(fs::read_text(dir / "metrics.json"));
  EXPECT_EQ(j["experiment"], "x");
  const auto& t = j["tasks"]["scene"];
  for (const char* key : {"accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted",
                          "roc_auc", "confusion"}) {
    EXPECT_TRUE(t.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(t["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(t["confusion"]["classes"][1], "b,c");
  EXPECT_EQ(t["confusion"]["matrix"][2][0], 2);
  EXPECT_NEAR(t["per_class"]["a"]["f1"].get<double>(), 0.4, 1e-12);

  write_confusion_csv(dir / "confusion_scene.csv", m);
  EXPECT_EQ(fs::read_text(dir / "confusion_scene.csv"),
            "true\\predicted,a,\"b,c\",d\na,1,1,0\n\"b,c\",0,2,0\nd,2,0,0\n");
  write_roc_csv(dir / "roc_scene.csv", m);
  const auto roc = fs::read_text(dir / "roc_scene.csv");
  EXPECT_EQ(roc.rfind("class,threshold,fpr,tpr\na,inf,0,0\n", 0), 0u) << roc;
}

TEST(Plots, DrawPngsOrSkipWithoutGnuplot) {
  test::TempDir dir;
  const auto m =
      evaluate({0, 1, 1, 0}, {0.9f, 0.1f, 0.3f, 0.7f, 0.6f, 0.4f, 0.2f, 0.8f}, {"no", "yes"});
  std::vector<Series> losses(1), scores(1);
  losses[0].name = "train loss";
  losses[0].y = {1.0, 0.5};
  scores[0].name = "val f1";
  scores[0].y = {0.4, 0.6};
  const std::vector<double> epochs = {1, 2};
  const bool ok = plot_confusion(dir / "confusion.png", m, "music") &&
                  plot_roc(dir / "roc.png", m, "music") &&
                  plot_training_curves(dir / "curves.png", epochs, losses, scores, "curves");
  EXPECT_EQ(ok, gnuplot_available());
  for (const char* f : {"confusion.png", "roc.png", "curves.png"}) {
    EXPECT_EQ(std::filesystem::exists(dir / f), gnuplot_available()) << f;
    if (gnuplot_available()) {
      std::ifstream in(dir / f, std::ios::binary);
      char magic[4] = {};
      in.read(magic, 4);
      EXPECT_EQ(std::string(magic + 1, 3), "PNG") << f;
    }
  }
}

bool is_png(const std::filesystem::path& f) {
  std::ifstream in(f, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return std::string(magic + 1, 3) == "PNG";
}

// The run folder given as a relative path: the script beside the PNG re-draws it by the
// documented command from the PNG's folder, also after the folder moved (before: the data path
// was stored as given, relative to the cwd of the run, and the re-draw failed).
TEST(Plots, ScriptRedrawsFromARelativeAndAMovedFolder) {
  if (!gnuplot_available()) GTEST_SKIP() << "no gnuplot";
  test::TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  std::vector<Series> scores = {{"accuracy", {0.5, 0.9}}, {"macro-F1", {0.4, 0.8}}};
  const bool bars = plot_bars("runs/a/report.png", {"cnn / music", "svm \"x\" / music"}, scores,
                              "score", "report");
  const bool line = plot_timeline(
      "runs/a/film.timeline.png",
      {{"music", {"no", "yes"}, {{0, 3, 0}, {3, 9, 1}}}, {"speaker", {"a", "b", "c"}, {}}},
      "film.wav");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(bars && line);
  EXPECT_TRUE(is_png(dir / "runs/a/report.png"));
  EXPECT_TRUE(is_png(dir / "runs/a/film.timeline.png"));
  const std::string gp = fs::read_text(dir / "runs/a/gnuplot/report.gp");
  EXPECT_NE(gp.find("data = 'gnuplot/report.dat'"), std::string::npos) << gp;
  std::filesystem::rename(dir / "runs/a", dir / "moved");
  for (const char* stem : {"report", "film.timeline"}) {
    const std::string cmd = "cd '" + (dir / "moved").string() + "' && gnuplot -e \"set output '" +
                            stem + ".again.png'\" gnuplot/" + stem + ".gp >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    EXPECT_TRUE(is_png(dir / "moved" / (std::string(stem) + ".again.png"))) << stem;
  }
}

}  // namespace
}  // namespace hptrain::metrics
