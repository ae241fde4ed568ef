// Forward shapes of the CNN and LSTM for odd and tiny input lengths, one head per task, and the
// configuration checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/models/net.h"
#include "hptrain/toml_config.h"

namespace hptrain::models {
namespace {

struct ShapeCase {
  std::string type;
  std::string pooling;
  int frame_stride;
};

class NetShapes : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(NetShapes, OddLengthsGiveOneLogitRowPerExample) {
  ModelConfig cfg;
  cfg.type = GetParam().type;
  cfg.channels = {4, 8, 8};
  cfg.hidden_size = 8;
  if (cfg.type == "cnn") {
    cfg.time_pooling = GetParam().pooling;
  } else {
    cfg.pooling = GetParam().pooling;
  }
  cfg.frame_stride = GetParam().frame_stride;
  torch::manual_seed(0);
  const int64_t rows = cfg.type == "cnn" ? 13 : 9;  // odd row counts too
  Net net(cfg, rows, std::vector<int64_t>{5, 2, 3});
  net->eval();
  for (int64_t t : {1, 2, 3, 7, 301}) {
    for (int64_t b : {1, 3}) {
      const auto out = net->forward(torch::randn({b, rows, t}));
      ASSERT_EQ(out.size(), 3u);
      EXPECT_EQ(out[0].sizes(), (std::vector<int64_t>{b, 5})) << "T=" << t;
      EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{b, 2})) << "T=" << t;
      EXPECT_EQ(out[2].sizes(), (std::vector<int64_t>{b, 3})) << "T=" << t;
      EXPECT_TRUE(torch::isfinite(out[0]).all().item<bool>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, NetShapes,
                         ::testing::Values(ShapeCase{"cnn", "mean_max", 1},
                                           ShapeCase{"cnn", "mean", 1}, ShapeCase{"cnn", "max", 1},
                                           ShapeCase{"cnn", "mean_std", 1},
                                           ShapeCase{"lstm", "attention", 1},
                                           ShapeCase{"lstm", "attention_stats", 2},
                                           ShapeCase{"lstm", "mean", 3}),
                         [](const auto& info) {
                           return info.param.type + "_" + info.param.pooling + "_" +
                                  std::to_string(info.param.frame_stride);
                         });

// Statistics pooling over a single frame (the CNN: 5 frames after three 2x2 pools; the LSTM:
// one frame): the standard deviation is 0 there, and its gradient must still be finite.
TEST(Net, StatisticsPoolingHasFiniteGradientsOnOneFrame) {
  for (const std::string type : {"cnn", "lstm"}) {
    ModelConfig cfg;
    cfg.type = type;
    cfg.channels = {4, 8, 8};
    cfg.hidden_size = 8;
    cfg.time_pooling = "mean_std";
    cfg.pooling = "attention_stats";
    torch::manual_seed(2);
    Net net(cfg, 16, std::vector<int64_t>{3});
    net->train();
    const auto out = net->forward(torch::randn({3, 16, type == "cnn" ? 5 : 1}));
    torch::nn::functional::cross_entropy(out[0], torch::tensor({0, 1, 2})).backward();
    for (const auto& p : net->parameters()) {
      ASSERT_TRUE(p.grad().defined()) << type;
      EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << type;
    }
  }
}

TEST(Net, BatchedEqualsOneByOneInEvalMode) {
  ModelConfig cfg;
  cfg.channels = {4, 8};
  torch::manual_seed(1);
  Net net(cfg, 8, std::vector<int64_t>{3});
  net->eval();
  const auto x = torch::randn({4, 8, 11});
  const auto all = net->forward(x)[0];
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(
        torch::allclose(net->forward(x.slice(0, i, i + 1))[0], all.slice(0, i, i + 1), 1e-5, 1e-5));
  }
}

TEST(Net, NormalizationIsAppliedAndSaved) {
  ModelConfig cfg;
  cfg.type = "lstm";
  cfg.hidden_size = 4;
  torch::manual_seed(2);
  Net net(cfg, 2, std::vector<int64_t>{2});
  net->eval();
  const auto x = torch::randn({1, 2, 5});
  const auto before = net->forward(x)[0];
  net->set_normalization(torch::tensor({1.0f, -1.0f}), torch::tensor({2.0f, 0.5f}));
  const auto shifted = torch::stack({x[0][0] * 2 + 1, x[0][1] * 0.5 - 1}).unsqueeze(0);
  EXPECT_TRUE(torch::allclose(net->forward(shifted)[0], before, 1e-5, 1e-5));
  EXPECT_EQ(net->named_buffers().size(), 2u);
}

// embed() is the vector the heads see: a linear head applied to it by hand gives forward's
// logits (eval mode: dropout off), for every body type; the input normalisation is applied.
TEST(Net, EmbedIsWhatTheHeadsSee) {
  for (const std::string type : {"cnn", "lstm", "ecapa"}) {
    ModelConfig cfg;
    cfg.type = type;
    cfg.channels = type == "ecapa" ? std::vector<int>{8, 8, 8, 8, 24} : std::vector<int>{4, 8};
    cfg.hidden_size = 6;
    cfg.res2net_scale = 2;
    cfg.se_channels = 4;
    cfg.attention_channels = 4;
    cfg.embedding_dim = 5;
    torch::manual_seed(4);
    Net net(cfg, 10, std::vector<int64_t>{3, 2});
    net->eval();
    net->set_normalization(torch::linspace(-1, 1, 10), torch::linspace(0.5, 2, 10));
    const auto x = torch::randn({3, 10, 17});
    const auto e = net->embed(x);
    ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, net->embedding_size()})) << type;
    if (type == "ecapa") {
      EXPECT_EQ(net->embedding_size(), 5);
    }
    const auto params = net->named_parameters();
    const auto logits = net->forward(x);
    for (int t = 0; t < 2; ++t) {
      const std::string head = "head" + std::to_string(t);
      const auto by_hand = torch::addmm(params[head + ".bias"], e, params[head + ".weight"].t());
      EXPECT_TRUE(torch::allclose(by_hand, logits[t], 1e-5, 1e-5)) << type << " task " << t;
    }
    // the normalisation comes first: shifting the input by the mean changes the embedding
    net->set_normalization(torch::zeros({10}), torch::ones({10}));
    EXPECT_FALSE(torch::allclose(net->embed(x), e, 1e-4, 1e-4)) << type;
  }
}

// The CNN's eval path (batch norm folded into each conv, ceil-mode max pool as strided views,
// ReLU after the pool) against ATen's conv2d -> batch_norm -> relu -> max_pool2d from the
// state dict, at odd sizes (the ceil-mode pools pad both sides); and its frames pooled with
// all weights 1 are embed's vector for every time pooling. Random batch-norm statistics, so
// that a fold missing the running mean or variance shows.
TEST(Net, CnnEvalFramesMatchTheLayersAsTrained) {
  for (const std::string pooling : {"mean_std", "mean_max", "mean", "max"}) {
    ModelConfig cfg;
    cfg.channels = {4, 8, 6};
    cfg.time_pooling = pooling;
    torch::manual_seed(5);
    Net net(cfg, 13, std::vector<int64_t>{3});
    torch::NoGradGuard no_grad;
    for (auto& item : net->named_buffers()) {
      auto& b = item.value();
      if (item.key().find("running_mean") != std::string::npos) b.copy_(torch::randn(b.sizes()));
      if (item.key().find("running_var") != std::string::npos) {
        b.copy_(torch::rand(b.sizes()) + 0.5);
      }
    }
    for (auto& item : net->named_parameters()) {  // batch norms' affine
      if (item.key().find(".1.") != std::string::npos) {
        item.value().copy_(torch::randn(item.value().sizes()));
      }
    }
    net->eval();
    ASSERT_EQ(net->frame_stride(), 8);
    const auto x = torch::randn({3, 13, 37});
    const auto frames = net->embed_frames(x);
    ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{3, 6, 5})) << pooling;  // ceil(37 / 8)
    const auto params = net->named_parameters();
    const auto buffers = net->named_buffers();
    auto bn = [&](const torch::Tensor& h, const std::string& n) {
      return torch::batch_norm(h, params[n + ".weight"], params[n + ".bias"],
                               buffers[n + ".running_mean"], buffers[n + ".running_var"], false,
                               0.1, 1e-5, false);
    };
    torch::Tensor h = x.unsqueeze(1);
    for (int i = 0; i < 3; ++i) {
      const std::string b = "body.block" + std::to_string(i);
      h = torch::conv2d(h, params[b + ".0.weight"], {}, 1, 1);
      h = torch::max_pool2d(torch::relu(bn(h, b + ".1")), 2, 2, 0, 1, true);
    }
    h = torch::conv1d(h.flatten(1, 2), params["body.project.0.weight"]);
    h = torch::relu(bn(h, "body.project.1"));
    EXPECT_TRUE(torch::allclose(frames, h, 1e-4, 1e-4))
        << pooling << ": max |diff| " << (frames - h).abs().max().item<float>();
    const auto pooled = net->pool_frames(frames, torch::ones({3, 5}));
    EXPECT_TRUE(torch::allclose(pooled, net->embed(x), 1e-5, 1e-5)) << pooling;
    // weights select frames: frames 1..3 alone = pooling those frames with weights 1
    const auto w = torch::tensor({0.0f, 1.0f, 1.0f, 1.0f, 0.0f}).expand({3, 5});
    EXPECT_TRUE(torch::allclose(net->pool_frames(frames, w),
                                net->pool_frames(frames.slice(2, 1, 4), torch::ones({3, 3})), 1e-5,
                                1e-5))
        << pooling;
  }
  ModelConfig lstm;
  lstm.type = "lstm";
  lstm.hidden_size = 4;
  EXPECT_EQ(Net(lstm, 8, std::vector<int64_t>{2})->frame_stride(), 0);
}

TEST(Net, WrongInputRowsIsAnError) {
  ModelConfig cfg;
  Net net(cfg, 8, std::vector<int64_t>{2});
  EXPECT_THROW(net->forward(torch::randn({1, 7, 10})), InputError);
}

TEST(ModelConfig, ValidateNamesTheField) {
  ModelConfig cfg;
  cfg.dropout = 1.5;
  try {
    cfg.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.dropout"), std::string::npos) << e.what();
  }
}

// The parameter and buffer names and shapes of experiments/{cnn,lstm}.toml's models (demo
// shapes: 64 log-mel rows, 60 MFCC rows, classes 7, 2, 3), against the list committed in
// tests/data/models/parameters.txt, which scripts/compare_torch.py --check holds its Python
// twin of the models to (a ctest when python3-torch is there): a change on either side fails
// until both agree. HP_UPDATE_PARAMETERS=1 rewrites the list from the C++ model.
TEST(Net, ParameterNamesMatchTheListThePythonTwinChecks) {
  std::string lines;
  for (const auto& [name, rows] : {std::pair<std::string, int64_t>{"cnn", 64}, {"lstm", 60}}) {
    const auto path = std::filesystem::path(HP_SOURCE_DIR) / "experiments" / (name + ".toml");
    const toml::table root = config::parse_file(path);
    ModelConfig cfg;
    from_toml(config::Section(&root, path.string()).section("model"), cfg);
    Net net(cfg, rows, std::vector<int64_t>{7, 2, 3});
    std::vector<std::string> entries;
    auto add = [&](const std::string& key, const torch::Tensor& t) {
      std::string shape;
      for (int64_t d : t.sizes()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      entries.push_back(name + " " + key + " " + (shape.empty() ? "scalar" : shape));
    };
    for (const auto& p : net->named_parameters()) add(p.key(), p.value());
    for (const auto& b : net->named_buffers()) add(b.key(), b.value());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) lines += e + "\n";
  }
  const auto list = std::filesystem::path(HP_SOURCE_DIR) / "tests/data/models/parameters.txt";
  const char* update = std::getenv("HP_UPDATE_PARAMETERS");
  if (update != nullptr && std::string(update) == "1") {
    hptrain::fs::write_text(list, lines);
  }
  EXPECT_EQ(hptrain::fs::read_text(list), lines)
      << "the C++ models' parameters differ from " << list
      << ": bring scripts/compare_torch.py in step, then HP_UPDATE_PARAMETERS=1 rewrites it";
}

}  // namespace
}  // namespace hptrain::models
