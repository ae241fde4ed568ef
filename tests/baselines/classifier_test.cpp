// Both classifiers through the TabularClassifier interface: [model] parsing and errors that
// name the key, save/load round trips, degenerate data, and `fit-tabular`'s library side.
#include <gtest/gtest.h>

#include "hptrain/baselines/classifier.h"
#include "hptrain/baselines/fit_tabular.h"
#include "hptrain/baselines/random_forest.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"
#include "support/support.h"
#include "toy_data.h"

namespace hptrain::baselines {
namespace {

// Parses a [model] table written as TOML text.
struct Model {
  explicit Model(const std::string& text) : root(toml::parse(text)) {}
  config::Section section() const { return config::Section(&root, "exp.toml").section("model"); }
  toml::table root;
};

// The message of the ConfigError that make_classifier throws for `text`.
std::string config_error(const std::string& text) {
  Model m(text);
  try {
    make_classifier(m.section());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(MakeClassifier, ReadsHyperParameters) {
  Model svm(
      "[model]\ntype = 'svm'\nkernel = 'linear'\nC = 10\ngamma = 0.5\n"
      "class_weight = 'balanced'\nprobability = false\n");
  auto c = make_classifier(svm.section());
  ASSERT_EQ(c->name(), "svm");
  const auto& sc = dynamic_cast<const SvmClassifier&>(*c).config();
  EXPECT_EQ(sc.kernel, "linear");
  EXPECT_EQ(sc.C, 10.0);
  EXPECT_EQ(sc.gamma.rule, "value");
  EXPECT_EQ(sc.gamma.value, 0.5);
  EXPECT_EQ(sc.class_weight, "balanced");
  EXPECT_FALSE(sc.probability);

  Model rf(
      "[model]\ntype = 'rf'\nn_estimators = 7\ncriterion = 'entropy'\nmax_depth = 4\n"
      "max_features = 0.5\nbootstrap = false\nseed = 3\n");
  auto r = make_classifier(rf.section());
  ASSERT_EQ(r->name(), "rf");
  const auto& fc = dynamic_cast<const RandomForestClassifier&>(*r).config();
  EXPECT_EQ(fc.n_estimators, 7);
  EXPECT_EQ(fc.criterion, "entropy");
  EXPECT_EQ(fc.max_depth, 4);
  EXPECT_EQ(fc.max_features.rule, "fraction");
  EXPECT_EQ(fc.max_features.resolve(10), 5);
  EXPECT_FALSE(fc.bootstrap);

  Model count("[model]\ntype = 'rf'\nmax_features = 3\nmax_depth = 'none'\n");
  const auto cr = make_classifier(count.section());
  const auto& cc = dynamic_cast<const RandomForestClassifier&>(*cr).config();
  EXPECT_EQ(cc.max_features.rule, "count");
  EXPECT_EQ(cc.max_features.resolve(10), 3);
  EXPECT_FALSE(cc.max_depth.has_value());
}

TEST(MakeClassifier, BadHyperParametersNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"type = 'knn'", "model.type"},
      {"C = 1", "model.type"},  // type missing
      {"type = 'svm'\nC = -1", "model.C"},
      {"type = 'svm'\nC = 'big'", "model.C"},
      {"type = 'svm'\ngamma = 'wide'", "model.gamma"},
      {"type = 'svm'\ngamma = 0", "model.gamma"},
      {"type = 'svm'\nkernel = 'poly'", "model.kernel"},
      {"type = 'svm'\ntol = 0", "model.tol"},
      {"type = 'svm'\nmax_iter = 0", "model.max_iter"},
      {"type = 'svm'\ncache_size = -5", "model.cache_size"},
      {"type = 'svm'\nclass_weight = 'heavy'", "model.class_weight"},
      {"type = 'rf'\nn_estimators = 0", "model.n_estimators"},
      {"type = 'rf'\ncriterion = 'mse'", "model.criterion"},
      {"type = 'rf'\nmax_depth = 0", "model.max_depth"},
      {"type = 'rf'\nmax_depth = 2.5", "model.max_depth"},
      {"type = 'rf'\nmin_samples_leaf = 0", "model.min_samples_leaf"},
      {"type = 'rf'\nmin_samples_split = 1", "model.min_samples_split"},
      {"type = 'rf'\nmax_features = 1.5", "model.max_features"},
      {"type = 'rf'\nmax_features = 0", "model.max_features"},
      {"type = 'rf'\nmax_features = 'half'", "model.max_features"},
      {"type = 'rf'\nn_bins = 300", "model.n_bins"},
  };
  for (const auto& [body, key] : cases) {
    const std::string msg = config_error("[model]\n" + body + "\n");
    EXPECT_NE(msg.find("exp.toml:"), std::string::npos) << body << " -> " << msg;
    EXPECT_NE(msg.find(key), std::string::npos) << body << " -> " << msg;
  }
}

TEST(MakeClassifier, UnknownKeyIsReportedByCheckUnknown) {
  Model m("[model]\ntype = 'rf'\nn_trees = 5\n");
  const config::Section root(&m.root, "exp.toml");
  make_classifier(root.section("model"));
  try {
    root.check_unknown();
    FAIL() << "n_trees accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.n_trees"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_estimators"), std::string::npos) << e.what();
  }
}

class EachModel : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<TabularClassifier> make() const {
    Model m("[model]\ntype = '" + GetParam() + "'\nn_threads = 2\n" +
            (GetParam() == "rf" ? "n_estimators = 15\n" : ""));
    return make_classifier(m.section());
  }
};

TEST_P(EachModel, SaveLoadGivesIdenticalPredictions) {
  const auto t = test::blobs(240, 6, 3, 2.0, 12);
  auto clf = make();
  clf->fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  test::TempDir dir;
  clf->save(dir / "model.h5");
  auto back = load_classifier(dir / "model.h5");
  EXPECT_EQ(back->name(), GetParam());
  EXPECT_EQ(back->n_classes(), 3);
  EXPECT_EQ(back->n_features(), 6);
  EXPECT_EQ(back->info().at("config"), clf->info().at("config"));
  const auto probe = test::blobs(100, 6, 3, 2.0, 13);
  std::vector<float> p1(probe.n * 3), p2(probe.n * 3);
  clf->predict_proba(probe.X.data(), probe.n, p1.data());
  back->predict_proba(probe.X.data(), probe.n, p2.data());
  EXPECT_EQ(p1, p2);
  std::vector<int32_t> c1(probe.n), c2(probe.n);
  clf->predict(probe.X.data(), probe.n, c1.data());
  back->predict(probe.X.data(), probe.n, c2.data());
  EXPECT_EQ(c1, c2);
  EXPECT_GE(test::accuracy(c1, probe.y), 0.8);
}

TEST_P(EachModel, ProbabilitiesSumToOne) {
  const auto t = test::blobs(150, 4, 5, 1.5, 14);
  auto clf = make();
  clf->fit(t.X.data(), t.n, t.d, t.y.data(), t.k);
  std::vector<float> p(t.n * t.k);
  clf->predict_proba(t.X.data(), t.n, p.data());
  for (int64_t i = 0; i < t.n; ++i) {
    double s = 0;
    for (int c = 0; c < t.k; ++c) s += p[i * t.k + c];
    EXPECT_NEAR(s, 1.0, 1e-5) << "row " << i;
  }
}

// Expects fit to throw InputError whose message contains `needle`.
void expect_fit_error(TabularClassifier& clf, const test::Toy& t, int k,
                      const std::string& needle) {
  try {
    clf.fit(t.X.data(), t.n, t.d, t.y.data(), k);
    ADD_FAILURE() << "no error; expected '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST_P(EachModel, DegenerateDataIsRejected) {
  auto clf = make();
  auto one_class = test::blobs(30, 3, 2, 1.0, 1);
  std::fill(one_class.y.begin(), one_class.y.end(), 1);
  expect_fit_error(*clf, one_class, 2, "at least 2 classes");
  auto constant = test::blobs(30, 3, 2, 1.0, 1);
  std::fill(constant.X.begin(), constant.X.end(), 4.0f);
  expect_fit_error(*clf, constant, 2, "every feature is constant");
  auto nan = test::blobs(30, 3, 2, 1.0, 1);
  nan.X[7 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  expect_fit_error(*clf, nan, 2, "X[7, 2] is NaN");
  auto bad_label = test::blobs(30, 3, 2, 1.0, 1);
  bad_label.y[4] = 2;
  expect_fit_error(*clf, bad_label, 2, "y[4] = 2");
  // fitted, then NaN at prediction time
  const auto ok = test::blobs(30, 3, 2, 3.0, 1);
  clf->fit(ok.X.data(), ok.n, ok.d, ok.y.data(), 2);
  std::vector<float> p(ok.n * 2);
  EXPECT_THROW(clf->predict_proba(nan.X.data(), nan.n, p.data()), InputError);
}

TEST_P(EachModel, ASingleConstantColumnIsFine) {
  auto t = test::blobs(120, 4, 2, 6.0, 15);
  for (int64_t i = 0; i < t.n; ++i) t.X[i * t.d + 1] = -2.0f;
  auto clf = make();
  clf->fit(t.X.data(), t.n, t.d, t.y.data(), 2);
  std::vector<int32_t> pred(t.n);
  clf->predict(t.X.data(), t.n, pred.data());
  EXPECT_GE(test::accuracy(pred, t.y), 0.9);
}

INSTANTIATE_TEST_SUITE_P(Models, EachModel, ::testing::Values("svm", "rf"));

TEST(LoadClassifier, RejectsOtherFiles) {
  test::TempDir dir;
  {
    auto f = h5::File::create(dir / "other.h5");
    const float x[2] = {1, 2};
    f.write("x", x, {2});
    f.close();
  }
  try {
    load_classifier(dir / "other.h5");
    FAIL() << "accepted a file that is no model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not an hptrain tabular model"), std::string::npos);
  }
}

void write_xy(const std::filesystem::path& path, const test::Toy& t) {
  auto f = h5::File::create(path);
  f.write("X", t.X.data(), {t.n, t.d});
  f.write("y", t.y.data(), {t.n});
  f.close();
}

TEST(FitTabular, ScoresAndSaves) {
  test::TempDir dir;
  write_xy(dir / "train.h5", test::blobs(300, 5, 3, 4.0, 31));
  // a different seed: blobs(150, ..., 31) would be the first 150 training rows
  write_xy(dir / "test.h5", test::blobs(150, 5, 3, 4.0, 32));
  FitTabularOptions o;
  o.train = dir / "train.h5";
  o.test = dir / "test.h5";
  o.model = "rf";
  o.set = {"n_estimators=25", "model.max_depth=6"};
  o.out = dir / "rf.h5";
  const auto r = run_fit_tabular(o);
  EXPECT_EQ(r.at("n_train"), 300);
  EXPECT_EQ(r.at("n_classes"), 3);
  EXPECT_EQ(r.at("config").at("n_estimators"), 25);
  EXPECT_EQ(r.at("config").at("max_depth"), 6);
  EXPECT_GE(r.at("accuracy").get<double>(), 0.9);
  EXPECT_GE(r.at("macro_f1").get<double>(), 0.9);
  EXPECT_GT(r.at("fit_s").get<double>(), 0.0);
  ASSERT_TRUE(r.at("roc_auc").is_number());
  EXPECT_GE(r.at("roc_auc").get<double>(), 0.95);
  EXPECT_LE(r.at("roc_auc").get<double>(), 1.0);
  EXPECT_EQ(r.at("n_test"), 150);
  EXPECT_EQ(load_classifier(dir / "rf.h5")->name(), "rf");
  o.set = {"n_estimatorz=3"};
  EXPECT_THROW(run_fit_tabular(o), ConfigError);
}

}  // namespace
}  // namespace hptrain::baselines
