// models/script_module.h: hptrain::gelu computes aten::gelu's values, and its gradient follows
// the formula whatever the incoming gradient's layout (a transposed view here, the case LibTorch
// < 2.1 gets wrong on the CPU); reroute_gelu_backward leaves no aten::gelu in the tiny wav2vec
// 2.0 export and its forward bit for bit as it was; load_script_module reroutes where needed and
// names an operator this LibTorch lacks; share_script_tensors registers the module's own tensors
// under flat names, clashes an error.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/models/script_module.h"
#include "support/support.h"

namespace hptrain::models {
namespace {

const std::string kTiny = std::string(HP_SOURCE_DIR) + "/tests/data/encoders/tiny_wav2vec2.pt";

torch::Tensor hp_gelu(const torch::Tensor& x, const std::string& approximate) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("hptrain::gelu", "")
                             .typed<at::Tensor(const at::Tensor&, c10::string_view)>();
  return op.call(x, approximate);
}

// float32 kernels against the formula in float64: a few ulps of values up to ~10
constexpr double kAtol = 1e-6, kRtol = 1e-5;

TEST(ScriptModule, GeluGradientFollowsTheFormulaForATransposedGradient) {
  torch::manual_seed(11);
  const std::vector<std::vector<int64_t>> shapes = {{4, 32, 24}, {1, 8, 8}, {3, 16, 7}};
  for (const auto& shape : shapes) {
    const auto x = (3 * torch::randn(shape)).requires_grad_();
    const auto w = torch::randn({shape[0], shape[2], shape[1]});
    const auto y = hp_gelu(x, "none");
    EXPECT_TRUE(y.equal(at::gelu(x.detach())));
    (y.transpose(1, 2) * w).sum().backward();  // the gradient reaches y transposed
    // d/dx x Phi(x) = Phi(x) + x phi(x)
    const auto xd = x.detach().to(torch::kFloat64);
    const auto ref = (w.transpose(1, 2).to(torch::kFloat64) *
                      (0.5 * (1 + torch::erf(xd / std::sqrt(2.0))) +
                       xd * torch::exp(-0.5 * xd * xd) / std::sqrt(2 * M_PI)))
                         .to(torch::kFloat32)
                         .contiguous();
    const auto got = x.grad().contiguous();
    EXPECT_TRUE(test::all_close("gelu gradient " + c10::str(x.sizes()), got.data_ptr<float>(),
                                ref.data_ptr<float>(), static_cast<size_t>(ref.numel()), kAtol,
                                kRtol));
  }
  // the tanh approximation passes through
  const auto x = torch::randn({5, 3});
  EXPECT_TRUE(hp_gelu(x, "tanh").equal(at::gelu(x, "tanh")));
}

std::vector<torch::Tensor> hidden_states(torch::jit::Module& m, const torch::Tensor& x) {
  m.eval();
  torch::NoGradGuard no_grad;
  return m.forward({x, torch::full({x.size(0)}, x.size(1), torch::kLong)}).toTensorVector();
}

TEST(ScriptModule, RerouteLeavesNoGeluAndTheForwardAsItWas) {
  auto raw = torch::jit::load(kTiny, torch::kCPU);
  auto rerouted = torch::jit::load(kTiny, torch::kCPU);
  // calls in the code, one per TorchScript class: three convolution block types (the first with
  // its group norm, kernels 3 and 2), the positional convolution, the feed-forward block
  EXPECT_EQ(reroute_gelu_backward(rerouted), 5);
  EXPECT_EQ(reroute_gelu_backward(rerouted), 0);
  torch::manual_seed(12);
  const auto x = 0.1 * torch::randn({2, 8000});
  const auto a = hidden_states(raw, x), b = hidden_states(rerouted, x);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].equal(b[i])) << "layer " << i;

  auto loaded = load_script_module(kTiny, "the tiny export");
  EXPECT_EQ(reroute_gelu_backward(loaded), gelu_backward_needs_reroute() ? 0 : 5);
}

// A file saved by a newer PyTorch can call operators this LibTorch lacks. One saved here with
// its torch.relu call renamed (to a name of the same length, so the debug records' offsets still
// hold) is refused naming the call, this LibTorch's version and the setting, where the file as
// saved loads.
TEST(ScriptModule, AnOperatorThisLibTorchLacksIsNamed) {
  test::TempDir dir;
  torch::jit::Module script("Script");
  script.define("def forward(self, x):\n    return torch.relu(x)\n");
  const std::string saved = (dir / "saved.pt").string(), newer = (dir / "newer.pt").string();
  script.save(saved);
  {
    caffe2::serialize::PyTorchStreamReader in(saved);
    caffe2::serialize::PyTorchStreamWriter out(newer);
    int renamed = 0;
    for (const auto& name : in.getAllRecords()) {
      // the records the writer writes itself
      if (name == "version" || name == ".data/version" || name == "byteorder" ||
          name == ".data/serialization_id") {
        continue;
      }
      auto [data, size] = in.getRecord(name);
      std::string bytes(static_cast<const char*>(data.get()), size);
      if (name.rfind("code/", 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".py") {
        for (size_t at; (at = bytes.find("torch.relu(")) != std::string::npos; ++renamed) {
          bytes.replace(at, 11, "torch.hpx0(");
        }
      }
      out.writeRecord(name, bytes.data(), bytes.size());
    }
    out.writeEndOfFile();
    ASSERT_EQ(renamed, 1);
  }
  EXPECT_TRUE(load_script_module(saved, "model.weights = 'saved.pt'")
                  .forward({torch::full({2}, -1.0)})
                  .toTensor()
                  .equal(torch::zeros({2})));
  try {
    load_script_module(newer, "model.weights = 'newer.pt'");
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    for (const std::string part : {"model.weights = 'newer.pt' calls aten::hpx0, which this "
                                   "build's LibTorch (" TORCH_VERSION ") does not have",
                                   "newer PyTorch"}) {
      EXPECT_NE(m.find(part), std::string::npos) << m;
    }
  }
}

TEST(ScriptModule, SharedTensorsAreTheModulesOwnUnderFlatNames) {
  torch::jit::Module script("Script");
  script.register_parameter("w", torch::ones({3}).requires_grad_(), false);
  torch::jit::Module inner("Inner");
  inner.register_parameter("b", torch::zeros({2}), false);
  inner.register_buffer("n", torch::full({1}, 7.0));
  script.register_module("layer", inner);
  script.define(
      "def forward(self, x):\n    return x * self.w + self.layer.b.sum() + self.layer.n\n");

  torch::nn::Module holder("Holder");
  share_script_tensors(holder, script, "test module");
  const auto params = holder.named_parameters();
  const auto buffers = holder.named_buffers();
  ASSERT_NE(params.find("w"), nullptr);
  ASSERT_NE(params.find("layer_b"), nullptr);
  ASSERT_NE(buffers.find("layer_n"), nullptr);
  EXPECT_EQ(params.size(), 2u);
  EXPECT_EQ(buffers.size(), 1u);
  EXPECT_TRUE(params["w"].requires_grad());  // as they were
  EXPECT_FALSE(params["layer_b"].requires_grad());
  // shared: a change through the holder is what the TorchScript module computes with
  {
    torch::NoGradGuard no_grad;
    params["w"].fill_(2);
    params["layer_b"].fill_(0.5);
  }
  const auto y = script.forward({torch::ones({3})}).toTensor();
  EXPECT_TRUE(y.equal(torch::full({3}, 2.0 + 1.0 + 7.0))) << y;

  // "layer.b" and "layer_b" are one name once flat
  script.register_parameter("layer_b", torch::ones({1}), false);
  torch::nn::Module other("Other");
  try {
    share_script_tensors(other, script, "test module");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test module: two tensors named 'layer_b'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace hptrain::models
