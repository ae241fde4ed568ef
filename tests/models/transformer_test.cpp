// The log-mel transformer: positional encoding against the formula, self-attention against
// LibTorch's own nn::MultiheadAttention with the same weights (with and without a padding mask),
// padding invariance of a block, shapes for odd lengths with every pooling, a tiny overfit, a
// strict save/load round trip, and the [model] keys.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/models/net.h"
#include "hptrain/models/transformer.h"
#include "hptrain/toml_config.h"

namespace hptrain::models {
namespace {

// float32 attention through two different sequences of matmuls: a few ulps of values ~1.
constexpr double kTol = 1e-5;

ModelConfig small_transformer(const std::string& pooling) {
  ModelConfig cfg;
  cfg.type = "transformer";
  cfg.layers = 2;
  cfg.d_model = 16;
  cfg.heads = 4;
  cfg.ff_dim = 32;
  cfg.pooling = pooling;
  cfg.attention_channels = 8;
  cfg.dropout = 0;
  return cfg;
}

TEST(Transformer, PositionsFollowTheFormula) {
  const int64_t d = 7;  // odd: three cosines
  const auto pe = sinusoidal_positions(5, d);
  ASSERT_EQ(pe.sizes(), (std::vector<int64_t>{5, d}));
  for (int64_t t = 0; t < 5; ++t) {
    for (int64_t j = 0; j < d; ++j) {
      const double angle = t / std::pow(10000.0, static_cast<double>(j - j % 2) / d);
      const double want = j % 2 == 0 ? std::sin(angle) : std::cos(angle);
      EXPECT_NEAR(pe[t][j].item<double>(), want, kTol) << t << "," << j;
    }
  }
}

// torch::nn::MultiheadAttention packs q, k, v in in_proj_weight [3d, d] as our qkv does.
TEST(Transformer, SelfAttentionMatchesLibTorchsMultiheadAttention) {
  torch::manual_seed(5);
  const int64_t d = 12, heads = 3, b = 2, t = 6;
  SelfAttention ours(d, heads, 0.0);
  torch::nn::MultiheadAttention ref(torch::nn::MultiheadAttentionOptions(d, heads));
  {
    torch::NoGradGuard no_grad;
    ref->in_proj_weight.copy_(ours->named_parameters()["qkv.weight"]);
    ref->in_proj_bias.copy_(ours->named_parameters()["qkv.bias"]);
    ref->out_proj->weight.copy_(ours->named_parameters()["out.weight"]);
    ref->out_proj->bias.copy_(ours->named_parameters()["out.bias"]);
  }
  ours->eval();
  ref->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({b, t, d});
  const auto xt = x.transpose(0, 1);  // [T, B, d]
  const auto want = std::get<0>(ref->forward(xt, xt, xt)).transpose(0, 1);
  EXPECT_TRUE(torch::allclose(ours->forward(x), want, kTol, kTol));
  auto mask = torch::zeros({b, t}, torch::kBool);
  mask[0].narrow(0, 4, 2).fill_(true);
  mask[1].narrow(0, 1, 1).fill_(true);
  const auto masked_want = std::get<0>(ref->forward(xt, xt, xt, mask)).transpose(0, 1);
  EXPECT_TRUE(torch::allclose(ours->forward(x, mask), masked_want, kTol, kTol));
}

// Frames appended as padding and masked change nothing in the frames before them.
TEST(Transformer, MaskedPaddingLeavesTheRealFramesUnchanged) {
  torch::manual_seed(6);
  EncoderBlock block(16, 4, 32, 0.0);
  block->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 9, 16});
  const auto padded = torch::cat({x, 100 * torch::randn({1, 5, 16})}, 1);
  auto mask = torch::zeros({1, 14}, torch::kBool);
  mask[0].narrow(0, 9, 5).fill_(true);
  const auto got = block->forward(padded, mask).narrow(1, 0, 9);
  EXPECT_TRUE(torch::allclose(got, block->forward(x), kTol, kTol));
  // and unmasked, the padding does change them (the test can fail)
  EXPECT_FALSE(
      torch::allclose(block->forward(padded).narrow(1, 0, 9), block->forward(x), 1e-3, 1e-3));
}

class TransformerPooling : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformerPooling, OddLengthsGiveOneLogitRowPerExample) {
  torch::manual_seed(0);
  const int64_t rows = 13;
  Net net(small_transformer(GetParam()), rows, std::vector<int64_t>{5, 2});
  TransformerBody body(small_transformer(GetParam()), rows);
  EXPECT_EQ(body->out_features(), GetParam() == "attentive_stats" ? 32 : 16);
  net->eval();
  torch::NoGradGuard no_grad;
  for (int64_t t : {1, 2, 7, 301}) {
    EXPECT_EQ(body->encode(torch::randn({2, rows, t})).size(1),
              ConvSubsamplingImpl::frames(t) + (GetParam() == "cls" ? 1 : 0));
    for (int64_t b : {1, 3}) {
      const auto out = net->forward(torch::randn({b, rows, t}));
      ASSERT_EQ(out.size(), 2u);
      EXPECT_EQ(out[0].sizes(), (std::vector<int64_t>{b, 5})) << "T=" << t;
      EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{b, 2})) << "T=" << t;
      EXPECT_TRUE(torch::isfinite(out[0]).all().item<bool>()) << "T=" << t;
    }
  }
  // batched = one by one
  const auto x = torch::randn({3, rows, 40});
  const auto all = net->forward(x)[0];
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(
        torch::allclose(net->forward(x.narrow(0, i, 1))[0], all.narrow(0, i, 1), kTol, kTol));
  }
}

INSTANTIATE_TEST_SUITE_P(Poolings, TransformerPooling,
                         ::testing::Values("cls", "mean", "attentive_stats"));

TEST(Transformer, ConvSubsamplingFrameCount) {
  // ceil(ceil(T / 2) / 2): 301 -> 151 -> 76, as conv arithmetic with kernel 3, stride 2, pad 1
  EXPECT_EQ(ConvSubsamplingImpl::frames(301), 76);
  EXPECT_EQ(ConvSubsamplingImpl::frames(1), 1);
  EXPECT_EQ(ConvSubsamplingImpl::frames(4), 1);
  EXPECT_EQ(ConvSubsamplingImpl::frames(5), 2);
  ConvSubsampling sub(80, 8, 4);
  EXPECT_EQ(sub->forward(torch::randn({2, 80, 301})).sizes(), (std::vector<int64_t>{2, 76, 8}));
  EXPECT_EQ(sub->named_parameters()["conv2.weight"].sizes(), (std::vector<int64_t>{4, 4, 3, 3}));
  EXPECT_EQ(sub->named_parameters()["out.weight"].sizes(), (std::vector<int64_t>{8, 4 * 20}));
}

// Eight examples of two classes told apart only by where in time a bump is (a CNN's mean
// pooling would not see it; attention with positions must): memorised in a hundred steps.
TEST(Transformer, TinyOverfit) {
  torch::manual_seed(7);
  const int64_t n = 8, rows = 8, t = 24;
  auto y = torch::arange(n) % 2;
  auto x = 0.1 * torch::randn({n, rows, t});
  for (int64_t i = 0; i < n; ++i) x[i].narrow(1, y[i].item<int64_t>() == 0 ? 2 : 18, 4) += 1.0;
  Net net(small_transformer("cls"), rows, std::vector<int64_t>{2});
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-3));
  double first = 0, last = 0;
  net->train();
  for (int step = 0; step < 100; ++step) {
    auto loss = torch::nn::functional::cross_entropy(net->forward(x)[0], y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.05) << "first " << first << " last " << last;
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(net->forward(x)[0].argmax(1).equal(y));
}

TEST(Transformer, SaveAndLoadStrictGiveIdenticalOutputs) {
  torch::manual_seed(4);
  const int64_t rows = 10;
  Net a(small_transformer("attentive_stats"), rows, std::vector<int64_t>{4, 3});
  {
    a->train();
    torch::NoGradGuard no_grad;
    a->forward(torch::randn({6, rows, 30}) * 2 + 1);  // batch norm statistics of the pooling
  }
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(buffer);
  }
  torch::manual_seed(99);
  Net b(small_transformer("attentive_stats"), rows, std::vector<int64_t>{4, 3});
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  load_strict(*b, in);
  a->eval();
  b->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({3, rows, 17});
  const auto ya = a->forward(x), yb = b->forward(x);
  for (size_t k = 0; k < ya.size(); ++k) EXPECT_TRUE(ya[k].equal(yb[k])) << k;
  // another width does not load
  auto other = small_transformer("attentive_stats");
  other.ff_dim = 24;
  Net c(other, rows, std::vector<int64_t>{4, 3});
  buffer.seekg(0);
  torch::serialize::InputArchive again;
  again.load_from(buffer);
  EXPECT_THROW(load_strict(*c, again), InputError);
}

TEST(Transformer, TomlKeysAndErrors) {
  const toml::table root = toml::parse(
      "type = \"transformer\"\nlayers = 3\nd_model = 32\nheads = 8\nff_dim = 64\n"
      "pooling = \"cls\"\n");
  ModelConfig cfg;
  from_toml(config::Section(&root, "t.toml"), cfg);
  EXPECT_EQ(cfg.layers, 3);
  EXPECT_EQ(cfg.d_model, 32);
  EXPECT_EQ(cfg.heads, 8);
  EXPECT_EQ(cfg.ff_dim, 64);
  EXPECT_EQ(cfg.pooling, "cls");
  const toml::table plain = toml::parse("type = \"transformer\"\n");
  ModelConfig def;
  from_toml(config::Section(&plain, "t.toml"), def);
  EXPECT_EQ(def.pooling, "mean");
  const toml::table bad = toml::parse("type = \"transformer\"\nd_model = 30\nheads = 4\n");
  ModelConfig b;
  try {
    from_toml(config::Section(&bad, "t.toml"), b);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("d_model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("multiple of heads"), std::string::npos) << e.what();
  }
  const toml::table lstm_pool = toml::parse("type = \"transformer\"\npooling = \"attention\"\n");
  ModelConfig p;
  EXPECT_THROW(from_toml(config::Section(&lstm_pool, "t.toml"), p), ConfigError);
}

}  // namespace
}  // namespace hptrain::models
