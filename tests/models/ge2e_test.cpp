// The GE2E voice encoder (resemblyzer's VoiceEncoder) in LibTorch against PyTorch's forward of
// the same weights: a small random-initialised file written by scripts/resemblyzer_weights.py
// --random (tests/data/models/ge2e_small.pt), and resemblyzer's real weights when
// HP_GE2E_WEIGHTS names their converted file (skipped otherwise), and the same small encoder as
// a TorchScript file. Batched = one by one; shapes that do not fit are named; the Net keeps a
// ge2e's input as it is.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/models/ge2e.h"
#include "hptrain/models/net.h"
#include "support/support.h"

namespace hptrain::models {
namespace {

// float32 LSTMs of the same library on both sides; the 1e-4 of the issue, with room for the
// order of the GEMM's accumulation between PyTorch's and this build's oneDNN/MKL kernels.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

ModelConfig ge2e(int hidden, int layers, int embedding) {
  ModelConfig c;
  c.type = "ge2e";
  c.hidden_size = hidden;
  c.num_layers = layers;
  c.embedding_dim = embedding;
  return c;
}

// A tensor the script stored beside the weights (test_input, test_output).
torch::Tensor stored(const std::filesystem::path& file, const std::string& key) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict().at(key).toTensor();
}

std::vector<float> values(const torch::Tensor& t) {
  const auto c = t.contiguous().to(torch::kFloat32);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

void expect_python_forward(const std::filesystem::path& file, const ModelConfig& cfg) {
  Ge2eBody body(cfg, 40);
  EXPECT_EQ(load_ge2e_weights(*body, file), 4 * cfg.num_layers + 2);
  body->eval();
  torch::NoGradGuard no_grad;
  const auto x = stored(file, "test_input"), ref = stored(file, "test_output");
  const auto got = body->forward(x);
  ASSERT_EQ(got.sizes(), ref.sizes());
  EXPECT_TRUE(test::all_close(file.string(), values(got), values(ref), kAtol, kRtol));
  EXPECT_TRUE(test::all_close("norms", values(got.norm(2, 1)), std::vector<float>(x.size(0), 1.0f),
                              1e-6, 0));
  for (int64_t i = 0; i < x.size(0); ++i) {  // batched = one by one
    EXPECT_TRUE(test::all_close("item " + std::to_string(i),
                                values(body->forward(x.slice(0, i, i + 1))),
                                values(got.slice(0, i, i + 1)), kAtol, kRtol));
  }
}

TEST(Ge2e, EqualsPyTorchOnTheRandomFixture) {
  expect_python_forward(test::data_path("models/ge2e_small.pt"), ge2e(16, 3, 8));
}

TEST(Ge2e, EqualsPyTorchWithResemblyzersWeights) {
  const char* path = std::getenv("HP_GE2E_WEIGHTS");
  if (path == nullptr || !std::filesystem::exists(path)) {
    GTEST_SKIP() << "HP_GE2E_WEIGHTS does not name scripts/resemblyzer_weights.py's output";
  }
  expect_python_forward(path, ge2e(256, 3, 256));
}

TEST(Ge2e, AnotherShapeOrFileIsNamed) {
  Ge2eBody wide(ge2e(32, 3, 8), 40);
  try {
    load_ge2e_weights(*wide, test::data_path("models/ge2e_small.pt"));
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("lstm.weight_ih_l0: [64, 40] in the file, [128, 40] in the model"),
              std::string::npos)
        << m;
  }
  Ge2eBody deep(ge2e(16, 4, 8), 40);
  EXPECT_THROW(load_ge2e_weights(*deep, test::data_path("models/ge2e_small.pt")), InputError);
  test::TempDir dir;
  const auto bad = dir / "pretrained.pt";
  { std::ofstream(bad) << "not a torch archive"; }
  try {
    load_ge2e_weights(*wide, bad);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/resemblyzer_weights.py"), std::string::npos)
        << e.what();
  }
}

TEST(Ge2e, NetKeepsTheInputAsItIsAndCanFreezeTheBody) {
  auto cfg = ge2e(16, 3, 8);
  cfg.freeze_backbone = true;
  Net net(cfg, 40, std::vector<int64_t>{3});
  net->set_normalization(torch::full({40}, 5.0), torch::full({40}, 2.0));
  for (const auto& b : net->named_buffers()) {
    if (b.key() == "input_mean") {
      EXPECT_EQ(b.value().abs().max().item<float>(), 0.0f);
    } else if (b.key() == "input_inv_std") {
      EXPECT_EQ(b.value().min().item<float>(), 1.0f);
    }
  }
  int64_t frozen = 0, trained = 0;
  for (const auto& p : net->named_parameters()) {
    (p.value().requires_grad() ? trained : frozen) += 1;
    EXPECT_EQ(p.value().requires_grad(), p.key().rfind("head", 0) == 0) << p.key();
  }
  EXPECT_EQ(frozen, 14);
  EXPECT_EQ(trained, 2);
}

// The same encoder written by torch.jit.save (scripts/resemblyzer_weights.py --random
// --torchscript): its forward equals PyTorch's; its tensors are the Net's, so a checkpoint
// carries them, and freeze_backbone holds them.
TEST(TorchScript, EncoderFromAFileEqualsPyTorchAndItsWeightsAreTheNets) {
  const auto file = test::data_path("models/ge2e_small_script.pt");
  const auto small = test::data_path("models/ge2e_small.pt");
  TorchScriptBody body(file, 40);
  EXPECT_EQ(body->out_features(), 8);
  EXPECT_EQ(body->parameters().size(), 14u);
  body->eval();
  torch::NoGradGuard no_grad;
  const auto x = stored(small, "test_input");
  EXPECT_TRUE(test::all_close(file.string(), values(body->forward(x)),
                              values(stored(small, "test_output")), kAtol, kRtol));

  ModelConfig cfg;
  cfg.type = "torchscript";
  cfg.weights = file.string();
  Net a(cfg, 40, std::vector<int64_t>{3}), b(cfg, 40, std::vector<int64_t>{3});
  const auto body_of = [](Net& n) {
    return std::dynamic_pointer_cast<BodyImpl>(n->named_children()["body"]);
  };
  for (auto& p : body_of(b)->parameters()) p.add_(0.5);
  body_of(a)->eval();
  body_of(b)->eval();
  EXPECT_FALSE(torch::allclose(body_of(a)->forward(x), body_of(b)->forward(x)));
  torch::serialize::OutputArchive out;
  a->save(out);
  std::string bytes;
  out.save_to([&bytes](const void* p, size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return n;
  });
  torch::serialize::InputArchive in;
  in.load_from(bytes.data(), bytes.size());
  load_strict(*b, in);
  EXPECT_TRUE(torch::equal(body_of(a)->forward(x), body_of(b)->forward(x)));

  cfg.freeze_backbone = true;
  Net frozen(cfg, 40, std::vector<int64_t>{3});
  for (const auto& p : frozen->named_parameters()) {
    EXPECT_EQ(p.value().requires_grad(), p.key().rfind("head", 0) == 0) << p.key();
  }
  cfg.weights = small.string();  // weights, not a TorchScript module
  EXPECT_THROW(Net(cfg, 40, std::vector<int64_t>{3}), InputError);
}

}  // namespace
}  // namespace hptrain::models
