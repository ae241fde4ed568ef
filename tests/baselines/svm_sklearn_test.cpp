// The SVM against scikit-learn 1.2's SVC (LIBSVM) on a small overlapping 3-class problem:
// support vectors, dual coefficients, intercepts, one-vs-one decision values and votes.
// Reference values printed by (Debian python3-sklearn 1.2.1):
//   rng = np.random.RandomState(5); X = np.round(rng.randn(24, 2) * 1.5, 2).astype(np.float32)
//   y = np.array([0, 1, 2] * 8); X[y == 1] += [1.5, 0]; X[y == 2] += [0, 1.5]
//   clf = SVC(kernel='rbf', C=1.0, gamma=0.5, tol=1e-8, decision_function_shape='ovo').fit(X, y)
//   clf.support_, clf.dual_coef_, clf.intercept_, clf.decision_function([[0,0],[1,1],[-1,2]])
#include <gtest/gtest.h>

#include "hptrain/baselines/svm.h"
#include "support/support.h"

namespace hptrain::baselines {
namespace {

// The solvers stop at tol 1e-8 on the gradients; our kernel is float32, LIBSVM's double.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

TEST(SvmVsScikitLearn, RbfThreeClassModelMatches) {
  const std::vector<float> X = {
      0.66f,  -0.5f, 5.15f, -0.38f, 0.16f,  3.87f, -1.36f, -0.89f, 1.78f, -0.49f, -1.79f, 1.19f,
      -0.54f, 0.91f, -1.0f, -1.05f, 1.73f,  4.29f, -2.27f, 0.97f,  0.03f, -1.29f, -1.31f, 0.87f,
      1.49f,  1.07f, 1.59f, -0.54f, 0.0f,   1.34f, 1.19f,  -0.95f, 1.49f, -0.15f, -0.08f, 1.87f,
      0.3f,   2.0f,  1.37f, 2.34f,  -0.46f, 0.78f, 0.15f,  0.53f,  1.9f,  1.94f,  1.71f,  2.24f};
  std::vector<int32_t> y;
  for (int i = 0; i < 8; ++i) y.insert(y.end(), {0, 1, 2});
  SvmConfig cfg;
  cfg.C = 1.0;
  cfg.gamma = {"value", 0.5};
  cfg.tol = 1e-8;
  cfg.standardize = false;
  cfg.probability = false;
  SvmClassifier svm(cfg);
  svm.fit(X.data(), 24, 2, y.data(), 3);

  EXPECT_EQ(svm.support(), (std::vector<int64_t>{0,  3,  6,  9,  12, 15, 18, 21, 1,  4,  7,  10,
                                                 13, 16, 19, 22, 2,  5,  8,  11, 14, 17, 20, 23}));
  EXPECT_EQ(svm.n_support(), (std::vector<int32_t>{8, 8, 8}));
  const std::vector<double> dual = {1.0,
                                    1.0,
                                    0.03282173567994333,
                                    1.0,
                                    1.0,
                                    1.0,
                                    1.0,
                                    0.7556536561009531,
                                    -0.7160367827610123,
                                    -0.3158633298752162,
                                    -1.0,
                                    -1.0,
                                    -1.0,
                                    -1.0,
                                    -1.0,
                                    -0.7565752791446679,
                                    -0.6186552656820017,
                                    -1.0,
                                    -0.568244727388254,
                                    -0.7126992101534414,
                                    -1.0,
                                    -0.9709974012616436,
                                    -1.0,
                                    -1.0,
                                    0.0,
                                    1.0,
                                    1.0,
                                    1.0,
                                    1.0,
                                    0.8705966044853407,
                                    1.0,
                                    1.0,
                                    0.9092612880345806,
                                    0.39896614733713914,
                                    0.8324130506711562,
                                    0.36362564271885817,
                                    0.0,
                                    0.47623534285645125,
                                    1.0,
                                    1.0,
                                    -0.8468642968443402,
                                    -0.7663970285599654,
                                    -0.9354729641055838,
                                    0.0,
                                    -0.29850883365236475,
                                    -0.5832726174415456,
                                    -0.549985731014386,
                                    -1.0};
  const std::vector<float> dual_f(dual.begin(), dual.end());
  const std::vector<float> ours(svm.dual_coef().begin(), svm.dual_coef().end());
  EXPECT_TRUE(test::all_close("dual_coef", ours, dual_f, kAtol, kRtol));
  const std::vector<float> icpt = {-0.28046865832096396f, -0.16318586849747158f,
                                   0.08853323326510674f};
  const std::vector<float> our_icpt(svm.intercept().begin(), svm.intercept().end());
  EXPECT_TRUE(test::all_close("intercept", our_icpt, icpt, kAtol, kRtol));

  const std::vector<float> probe = {0, 0, 1, 1, -1, 2};
  std::vector<double> dec(9);
  svm.decision_function(probe.data(), 3, dec.data());
  const std::vector<float> ref_dec = {
      0.5845356220892783f,  0.6051675515658932f,  0.13252289010478485f,
      0.47047786102908234f, 0.5490611645555468f,  0.2758992408343215f,
      0.5298248031993968f,  -1.2501275973322399f, -1.0841508124986705f};
  EXPECT_TRUE(test::all_close("decision", std::vector<float>(dec.begin(), dec.end()), ref_dec,
                              kAtol, kRtol));
  std::vector<int32_t> pred(24);
  svm.predict(X.data(), 24, pred.data());
  EXPECT_EQ(pred, (std::vector<int32_t>{1, 1, 2, 1, 1, 2, 2, 1, 2, 2, 1, 2,
                                        1, 1, 2, 1, 1, 2, 2, 1, 2, 0, 1, 1}));
}

}  // namespace
}  // namespace hptrain::baselines
