// The pooling layers' values on inputs worked by hand: the CNN's time poolings (mean, max,
// mean_max, mean_std) and the LSTM's attention poolings (attention, attention_stats, mean), each
// body's weights set so that what reaches the pooling is known exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hptrain/models/net.h"
#include "models/module_values.h"

namespace hptrain::models {
namespace {

// The net's body (registered as "body"), whose output is the pooled features.
std::shared_ptr<BodyImpl> body_of(Net& net) {
  const auto children = net->named_children();
  const auto* body = children.find("body");
  return body == nullptr ? nullptr : std::dynamic_pointer_cast<BodyImpl>(*body);
}

using test::set;

// A 1-channel CNN on 1 row that passes its input through: conv 3x3 with only the centre tap,
// batch norms (eval) with variance 1 - eps (so they scale by 1), a 1x1 projection of weight 1.
// What reaches the time pooling is then the 2-wide max pool of relu(x) along time.
std::vector<float> cnn_pooled(const std::string& pooling, const std::vector<float>& x) {
  ModelConfig cfg;
  cfg.type = "cnn";
  cfg.channels = {1};
  cfg.time_pooling = pooling;
  Net net(cfg, 1, std::vector<int64_t>{2});
  auto body = body_of(net);
  EXPECT_NE(body, nullptr);
  const float var = 1.0f - 1e-5f;  // BatchNorm's eps is 1e-5
  set(*body, {{"block0.0.weight", {0, 0, 0, 0, 1, 0, 0, 0, 0}},
              {"block0.1.weight", {1}},
              {"block0.1.bias", {0}},
              {"block0.1.running_mean", {0}},
              {"block0.1.running_var", {var}},
              {"project.0.weight", {1}},
              {"project.1.weight", {1}},
              {"project.1.bias", {0}},
              {"project.1.running_mean", {0}},
              {"project.1.running_var", {var}}});
  body->eval();
  torch::NoGradGuard no_grad;
  const auto out = body->forward(torch::tensor(x).reshape({1, 1, -1})).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

TEST(Pooling, CnnTimePoolingsByHand) {
  // x = 1 5 2 -2 4 0 3: relu then max over pairs (ceil mode: the last frame alone) -> 5 2 4 3
  const std::vector<float> x = {1, 5, 2, -2, 4, 0, 3};
  const double mean = (5 + 2 + 4 + 3) / 4.0;  // 3.5
  // population variance: (2.25 + 2.25 + 0.25 + 0.25) / 4 = 1.25; std with the 1e-5 epsilon
  const double std_ = std::sqrt(1.25 + 1e-5);
  constexpr double kTol = 1e-5;  // float32 arithmetic on values below 10
  auto m = cnn_pooled("mean", x);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(m[0], mean, kTol);
  auto mx = cnn_pooled("max", x);
  ASSERT_EQ(mx.size(), 1u);
  EXPECT_NEAR(mx[0], 5.0, kTol);
  auto mm = cnn_pooled("mean_max", x);
  ASSERT_EQ(mm.size(), 2u);
  EXPECT_NEAR(mm[0], mean, kTol);
  EXPECT_NEAR(mm[1], 5.0, kTol);
  auto ms = cnn_pooled("mean_std", x);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_NEAR(ms[0], mean, kTol);
  EXPECT_NEAR(ms[1], std_, kTol);
  // a constant input: the standard deviation is the epsilon's square root, not 0 or NaN
  auto flat = cnn_pooled("mean_std", {2, 2, 2, 2});
  EXPECT_NEAR(flat[0], 2.0, kTol);
  EXPECT_NEAR(flat[1], std::sqrt(1e-5), 1e-7);
}

// A 1-unit LSTM on 1 row whose output is h_t = tanh(tanh(x_t)): the input and output gates are
// open (bias 40: sigmoid = 1 in float32), the forget gate shut (bias -40), the cell input
// g_t = tanh(x_t) (weight 1), no recurrent weights; the attention score is a * h_t.
std::vector<float> lstm_pooled(const std::string& pooling, const std::vector<float>& x, float a) {
  ModelConfig cfg;
  cfg.type = "lstm";
  cfg.hidden_size = 1;
  cfg.num_layers = 1;
  cfg.bidirectional = false;
  cfg.frame_stride = 1;
  cfg.pooling = pooling;
  Net net(cfg, 1, std::vector<int64_t>{2});
  auto body = body_of(net);
  EXPECT_NE(body, nullptr);
  // gates in LibTorch's order: input, forget, cell, output
  std::map<std::string, std::vector<float>> w = {{"lstm.weight_ih_l0", {0, 0, 1, 0}},
                                                 {"lstm.weight_hh_l0", {0, 0, 0, 0}},
                                                 {"lstm.bias_ih_l0", {40, -40, 0, 40}},
                                                 {"lstm.bias_hh_l0", {0, 0, 0, 0}}};
  if (pooling != "mean") {
    w["score.weight"] = {a};
    w["score.bias"] = {0.7f};  // a constant score shift: softmax ignores it
  }
  set(*body, w);
  body->eval();
  torch::NoGradGuard no_grad;
  const auto out = body->forward(torch::tensor(x).reshape({1, 1, -1})).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

TEST(Pooling, LstmAttentionPoolingsByHand) {
  const std::vector<float> x = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f};
  const double a = 3.0;
  std::vector<double> h, e;
  double z = 0;
  for (float v : x) {
    h.push_back(std::tanh(std::tanh(static_cast<double>(v))));
    e.push_back(std::exp(a * h.back()));
    z += e.back();
  }
  double mean = 0, sq = 0, plain = 0;
  for (size_t t = 0; t < h.size(); ++t) {
    mean += e[t] / z * h[t];
    sq += e[t] / z * h[t] * h[t];
    plain += h[t] / static_cast<double>(h.size());
  }
  const double std_ = std::sqrt(sq - mean * mean + 1e-5);
  constexpr double kTol = 2e-6;  // float32 LSTM and softmax on values of order 1
  const auto att = lstm_pooled("attention", x, static_cast<float>(a));
  ASSERT_EQ(att.size(), 1u);
  EXPECT_NEAR(att[0], mean, kTol);
  const auto stats = lstm_pooled("attention_stats", x, static_cast<float>(a));
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_NEAR(stats[0], mean, kTol);
  EXPECT_NEAR(stats[1], std_, kTol);
  const auto m = lstm_pooled("mean", x, 0);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(m[0], plain, kTol);
  // the weights matter: the attention mean leans to the largest h (x = 2), above the plain mean
  EXPECT_GT(att[0], plain + 0.05);
}

}  // namespace
}  // namespace hptrain::models
