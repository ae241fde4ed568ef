// ECAPA-TDNN, its attentive statistics pooling and the additive angular margin head: shapes for
// odd lengths, the paper's parameter count by hand, the pooling and the margin logits on values
// worked by hand, a short training run, and a save/load round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/models/ecapa.h"
#include "hptrain/models/margin.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pooling.h"
#include "hptrain/toml_config.h"
#include "models/module_values.h"

namespace hptrain::models {
namespace {

// float32 against a double worked by hand: a few ulps of the largest term.
constexpr double kTol = 1e-5;

using test::set;

int64_t count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// A small ECAPA (the demo's order of size) whose task "speaker" has the margin head.
ModelConfig small_ecapa() {
  ModelConfig cfg;
  cfg.type = "ecapa";
  cfg.channels = {16, 16, 16, 16, 48};
  cfg.res2net_scale = 4;
  cfg.se_channels = 8;
  cfg.attention_channels = 8;
  cfg.embedding_dim = 12;
  cfg.dropout = 0;
  cfg.loss = "aam";
  cfg.loss_task = "speaker";
  return cfg;
}

TEST(Ecapa, OddLengthsGiveOneLogitRowPerExample) {
  torch::manual_seed(0);
  const int64_t rows = 13;
  Net net(small_ecapa(), rows, std::vector<int64_t>{5, 2},
          std::vector<std::string>{"music", "speaker"});
  net->eval();
  torch::NoGradGuard no_grad;
  for (int64_t t : {1, 2, 7, 301}) {
    for (int64_t b : {1, 3}) {
      const auto out = net->forward(torch::randn({b, rows, t}));
      ASSERT_EQ(out.size(), 2u);
      EXPECT_EQ(out[0].sizes(), (std::vector<int64_t>{b, 5})) << "T=" << t;
      EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{b, 2})) << "T=" << t;
      EXPECT_TRUE(torch::isfinite(out[1]).all().item<bool>()) << "T=" << t;
      // without targets the margin head gives s * cos: within [-s, s]
      EXPECT_LE(out[1].abs().max().item<double>(), 30.0 + 1e-4);
    }
  }
  // training mode, a batch of one included (the pooled batch norm falls back to its running
  // statistics there), with targets
  net->train();
  for (int64_t b : {1, 3}) {
    const auto out = net->forward(torch::randn({b, rows, 7}), {torch::zeros({b}, torch::kLong),
                                                               torch::ones({b}, torch::kLong)});
    EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{b, 2}));
  }
}

TEST(Ecapa, PaperDefaultsHaveTheParameterCountWorkedByHand) {
  ModelConfig cfg;
  cfg.type = "ecapa";
  cfg.channels = kEcapaChannels;
  EcapaBody body(cfg, 80);
  // by hand, SpeechBrain's layers: conv (weights + bias), then batch norm (weight + bias)
  const auto tdnn = [](int64_t in, int64_t out, int64_t k) { return in * out * k + out + 2 * out; };
  const int64_t c = 512, scale = 8, se = 128, att = 128, mfa = 1536, emb = 192;
  const int64_t block = 2 * tdnn(c, c, 1)                              // tdnn1, tdnn2
                        + (scale - 1) * tdnn(c / scale, c / scale, 3)  // Res2Net
                        + (c * se + se) + (se * c + c);                // squeeze-excitation
  const int64_t by_hand = tdnn(80, c, 5)                               // front
                          + 3 * block                                  // three SE-Res2Net blocks
                          + tdnn(3 * c, mfa, 1)                        // aggregation
                          + tdnn(3 * mfa, att, 1) + att * mfa + mfa    // attention
                          + 2 * (2 * mfa)                              // batch norm of the pooled
                          + 2 * mfa * emb + emb;                       // embedding
  EXPECT_EQ(by_hand, 6194048);  // WeSpeaker's table: ECAPA_TDNN_GLOB_c512-ASTP-emb192, 6.19M
  EXPECT_EQ(count(*body), by_hand);
  EXPECT_EQ(body->out_features(), 192);
  // the margin head: one weight vector per class, no bias
  cfg.loss = "aam";
  cfg.loss_task = "speaker";
  Net net(cfg, 80, std::vector<int64_t>{6}, std::vector<std::string>{"speaker"});
  EXPECT_EQ(count(*net), by_hand + 6 * 192);
}

// Attentive statistics pooling with the attention set by hand: batch norm (eval) with variance
// 1 - eps scales by 1, so e_t = a * tanh(relu(w . [x_t; mean; std] + b0)) + b1.
TEST(AttentiveStatisticsPooling, ZeroScoresGiveTheMeanAndStd) {
  torch::manual_seed(1);
  AttentiveStatisticsPooling asp(2, 3, true);
  set(*asp, {{"conv.weight", std::vector<float>(6, 0.0f)}, {"conv.bias", {0.0f, 0.0f}}});
  asp->eval();
  const std::vector<float> x = {1, 2, 4, 7, -3, 0, 0, 5};  // [1, 2, 4]
  const auto out = asp->forward(torch::tensor(x).reshape({1, 2, 4}));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 4}));
  for (int c = 0; c < 2; ++c) {
    double mean = 0, var = 0;
    for (int t = 0; t < 4; ++t) mean += x[c * 4 + t] / 4.0;
    for (int t = 0; t < 4; ++t) var += std::pow(x[c * 4 + t] - mean, 2) / 4.0;
    EXPECT_NEAR(out[0][c].item<double>(), mean, kTol) << c;
    EXPECT_NEAR(out[0][2 + c].item<double>(), std::sqrt(var + kStdEpsilon), kTol) << c;
  }
}

TEST(AttentiveStatisticsPooling, GlobalContextAttentionByHand) {
  AttentiveStatisticsPooling asp(1, 1, true);
  const float var1 = 1.0f - 1e-5f;  // BatchNorm's eps is 1e-5
  // w . [x; mean; std] = x - mean + 0.5 std, then a = 2, b1 = 0.5
  set(*asp, {{"tdnn.0.weight", {1.0f, -1.0f, 0.5f}},
             {"tdnn.0.bias", {0.0f}},
             {"tdnn.2.weight", {1.0f}},
             {"tdnn.2.bias", {0.0f}},
             {"tdnn.2.running_mean", {0.0f}},
             {"tdnn.2.running_var", {var1}},
             {"conv.weight", {2.0f}},
             {"conv.bias", {0.5f}}});
  asp->eval();
  const std::vector<double> x = {0.5, -1.0, 2.0, 0.25, 1.5};
  const auto out =
      asp->forward(torch::tensor(std::vector<float>(x.begin(), x.end())).reshape({1, 1, 5}));
  double mean = 0, var = 0;
  for (double v : x) mean += v / 5;
  for (double v : x) var += (v - mean) * (v - mean) / 5;
  const double sd = std::sqrt(var + kStdEpsilon);
  std::vector<double> e;
  double z = 0;
  for (double v : x) {
    e.push_back(std::exp(2 * std::tanh(std::max(0.0, v - mean + 0.5 * sd)) + 0.5));
    z += e.back();
  }
  double wmean = 0, wvar = 0;
  for (size_t t = 0; t < x.size(); ++t) wmean += e[t] / z * x[t];
  for (size_t t = 0; t < x.size(); ++t) wvar += e[t] / z * (x[t] - wmean) * (x[t] - wmean);
  EXPECT_GT(std::abs(wmean - mean), 0.1);  // the weights are far from uniform
  EXPECT_NEAR(out[0][0].item<double>(), wmean, kTol);
  EXPECT_NEAR(out[0][1].item<double>(), std::sqrt(wvar + kStdEpsilon), kTol);
}

TEST(AdditiveAngularMargin, LogitsWorkedByHand) {
  const double m = 0.2, s = 30;
  const std::vector<float> cos = {0.8f,   0.3f,   -0.5f,   // target 0: cos(theta + m)
                                  0.1f,   -0.95f, 0.6f,    // target 1: theta < pi - m still
                                  -0.99f, 0.2f,   0.4f,    // target 0: past pi - m, cos - (1 + th)
                                  0.5f,   0.2f,   -0.5f};  // target 2
  const auto cosine = torch::tensor(cos).reshape({4, 3});
  const auto target = torch::tensor(std::vector<int64_t>{0, 1, 0, 2});
  const std::vector<int> y = {0, 1, 0, 2};
  const double th = std::cos(M_PI - m);  // -0.98007
  for (bool easy : {false, true}) {
    const auto got = aam_logits(cosine, target, AamOptions{m, s, easy});
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 3; ++j) {
        const double c = cos[i * 3 + j];
        double want = s * c;
        if (j == y[i]) {
          const double phi = std::cos(std::acos(c) + m);
          want = s * (easy ? (c > 0 ? phi : c) : (c > th ? phi : c - (1 + th)));
        }
        EXPECT_NEAR(got[i][j].item<double>(), want, s * kTol) << i << "," << j << " easy " << easy;
      }
    }
  }
  // cos(theta + m) = cos theta cos m - sin theta sin m = 0.8 * 0.980067 - 0.6 * 0.198669
  EXPECT_NEAR(aam_logits(cosine, target, {})[0][0].item<double>(), 30 * 0.664852, 1e-3);
  // evaluation: no targets, s * cos
  EXPECT_TRUE(torch::allclose(aam_logits(cosine, {}, {}), cosine * 30));
}

TEST(AdditiveAngularMargin, CosineAndLossWorkedByHand) {
  AdditiveAngularMargin head(2, 2, AamOptions{0.2, 30, false});
  set(*head, {{"weight", {1, 0, 0, 2}}});  // class directions (1, 0) and (0, 1)
  const auto x = torch::tensor(std::vector<float>{3, 4, -8, 6}).reshape({2, 2});  // norms 5, 10
  const auto cosine = head->cosine(x);
  const std::vector<double> c = {0.6, 0.8, -0.8, 0.6};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(cosine.view({-1})[i].item<double>(), c[i], kTol);
  const auto target = torch::tensor(std::vector<int64_t>{1, 0});
  const auto loss =
      torch::nn::functional::cross_entropy(head->forward(x, target), target).item<double>();
  // example 0: target 1 (cos 0.8); example 1: target 0 (cos -0.8 > th: still cos(theta + m))
  const auto ce = [](double target_logit, double other) {
    return -target_logit + std::log(std::exp(target_logit) + std::exp(other));
  };
  const double by_hand = (ce(30 * std::cos(std::acos(0.8) + 0.2), 30 * 0.6) +
                          ce(30 * std::cos(std::acos(-0.8) + 0.2), 30 * 0.6)) /
                         2;
  EXPECT_NEAR(loss, by_hand, 1e-4);
}

// Three classes, each raising two of 8 rows, in noise: the margin loss must fall by far in a
// few dozen steps and the classes come out right.
TEST(Ecapa, ShortTrainingOnSeparableDataReducesTheLoss) {
  torch::manual_seed(3);
  const int64_t n = 24, rows = 8, t = 20;
  auto y = torch::arange(n) % 3;
  auto x = 0.3 * torch::randn({n, rows, t});
  for (int64_t i = 0; i < n; ++i) x[i].narrow(0, 2 * y[i].item<int64_t>(), 2) += 1.0;
  Net net(small_ecapa(), rows, std::vector<int64_t>{3}, std::vector<std::string>{"speaker"});
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-3));
  double first = 0, last = 0;
  net->train();
  for (int step = 0; step < 40; ++step) {
    const auto logits = net->forward(x, {y});
    auto loss = torch::nn::functional::cross_entropy(logits[0], y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.3 * first) << "first " << first << " last " << last;
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(net->forward(x)[0].argmax(1).equal(y));
}

TEST(Ecapa, SaveAndLoadGiveIdenticalOutputs) {
  torch::manual_seed(4);
  const int64_t rows = 10;
  Net a(small_ecapa(), rows, std::vector<int64_t>{4, 3},
        std::vector<std::string>{"speaker", "scene"});
  {  // running statistics away from their initial values
    a->train();
    torch::NoGradGuard no_grad;
    a->forward(torch::randn({6, rows, 30}) * 2 + 1);
  }
  a->set_normalization(torch::rand({rows}), torch::rand({rows}) + 0.5);
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(buffer);
  }
  torch::manual_seed(99);
  Net b(small_ecapa(), rows, std::vector<int64_t>{4, 3},
        std::vector<std::string>{"speaker", "scene"});
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  b->load(in);
  a->eval();
  b->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({3, rows, 17});
  const auto ya = a->forward(x), yb = b->forward(x);
  for (size_t k = 0; k < ya.size(); ++k) EXPECT_TRUE(ya[k].equal(yb[k])) << k;
}

TEST(Ecapa, ConfigurationErrorsNameTheKey) {
  ModelConfig cfg = small_ecapa();
  cfg.channels = {16, 16, 16, 48};
  EXPECT_THROW(cfg.validate(), ConfigError);
  cfg = small_ecapa();
  cfg.channels = {16, 18, 16, 16, 48};  // 18 is no multiple of res2net_scale 4
  try {
    cfg.validate();
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.channels"), std::string::npos) << e.what();
  }
  try {
    Net net(small_ecapa(), 8, std::vector<int64_t>{3, 2},
            std::vector<std::string>{"music", "scene"});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("loss_task"), std::string::npos) << e.what();
  }
  // [model] type = "ecapa" without channels: SpeechBrain's defaults
  const toml::table root = toml::parse("type = \"ecapa\"\nloss = \"aam\"\nmargin = 0.3\n");
  const config::Section s(&root, "x.toml");
  ModelConfig read;
  from_toml(s, read);
  EXPECT_EQ(read.channels, kEcapaChannels);
  EXPECT_EQ(read.embedding_dim, 192);
  EXPECT_EQ(read.loss, "aam");
  EXPECT_DOUBLE_EQ(read.margin, 0.3);
  EXPECT_DOUBLE_EQ(read.scale, 30);
  EXPECT_NO_THROW(s.check_unknown());
  // the margin's keys stay valid with the plain softmax (one file, the loss changed by --set)
  const toml::table soft = toml::parse("type = \"ecapa\"\nloss = \"softmax\"\nmargin = 0.3\n");
  const config::Section s2(&soft, "y.toml");
  from_toml(s2, read);
  EXPECT_NO_THROW(s2.check_unknown());
}

}  // namespace
}  // namespace hptrain::models
