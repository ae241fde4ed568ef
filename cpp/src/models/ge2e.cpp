#include "hptrain/models/ge2e.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <torch/serialize.h>

#include "hptrain/error.h"
#include "hptrain/models/script_module.h"

namespace hptrain::models {

namespace nn = torch::nn;

Ge2eBodyImpl::Ge2eBodyImpl(const ModelConfig& cfg, int64_t rows)
    : embedding_dim_(cfg.embedding_dim) {
  // ref: self.lstm = nn.LSTM(mel_n_channels, model_hidden_size, model_num_layers, batch_first=True)
  lstm_ = register_module(
      "lstm",
      nn::LSTM(
          nn::LSTMOptions(rows, cfg.hidden_size).num_layers(cfg.num_layers).batch_first(true)));
  // ref: self.linear = nn.Linear(model_hidden_size, model_embedding_size)
  linear_ = register_module("linear", nn::Linear(cfg.hidden_size, cfg.embedding_dim));
}

torch::Tensor Ge2eBodyImpl::forward(const torch::Tensor& x) {
  const auto mels = torch::pow(10.0, x / 10.0).transpose(1, 2);  // [B, T, n_mels], power
  // ref: _, (hidden, _) = self.lstm(mels)
  const auto hidden = std::get<0>(std::get<1>(lstm_->forward(mels)));  // [layers, B, hidden]
  // ref: embeds_raw = self.relu(self.linear(hidden[-1]))
  const auto raw = torch::relu(linear_->forward(hidden[hidden.size(0) - 1]));
  // ref: embeds_raw / torch.norm(embeds_raw, dim=1, keepdim=True) (a zero row stays zero here)
  return raw / raw.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
}

int64_t load_ge2e_weights(Ge2eBodyImpl& body, const std::filesystem::path& file) {
  const std::string where = "model.weights = '" + file.string() + "'";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(where + ": cannot open it");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw InputError(where +
                     ": not a torch.save zip archive LibTorch can read (resemblyzer's "
                     "pretrained.pt is the older format: convert it with "
                     "scripts/resemblyzer_weights.py): " +
                     e.what_without_backtrace());
  }
  if (!value.isGenericDict()) {
    throw InputError(where + ": holds a " + value.tagKind() + ", not a dict of name -> tensor");
  }
  const auto dict = value.toGenericDict();
  int64_t n = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : body.named_parameters(/*recurse=*/true)) {
    const auto it = dict.find(p.key());
    if (it == dict.end() || !it->value().isTensor()) {
      throw InputError(where + ": no tensor '" + p.key() + "' in it");
    }
    const auto t = it->value().toTensor();
    if (t.sizes() != p.value().sizes()) {
      throw InputError(where + ": " + p.key() + ": " + c10::str(t.sizes()) + " in the file, " +
                       c10::str(p.value().sizes()) +
                       " in the model (model.hidden_size, num_layers, embedding_dim, n_mels)");
    }
    p.value().copy_(t.to(p.value().dtype()));
    ++n;
  }
  return n;
}

TorchScriptBodyImpl::TorchScriptBodyImpl(const std::filesystem::path& file, int64_t rows) {
  const std::string where = "model.weights = '" + file.string() + "'";
  module_ = std::make_shared<torch::jit::Module>(load_script_module(file.string(), where));
  share_script_tensors(*this, *module_, where);
  module_->eval();
  torch::Tensor y;
  try {
    torch::NoGradGuard no_grad;
    y = forward(torch::zeros({2, rows, 16}));
  } catch (const c10::Error& e) {
    throw InputError(where + ": its forward fails on a [2, " + std::to_string(rows) +
                     ", 16] batch: " + e.what_without_backtrace());
  }
  if (y.dim() != 2 || y.size(0) != 2) {
    throw InputError(where + ": its forward gives " + c10::str(y.sizes()) + " for a [2, " +
                     std::to_string(rows) + ", 16] batch, not [2, D]");
  }
  out_features_ = y.size(1);
  module_->train();
}

torch::Tensor TorchScriptBodyImpl::forward(const torch::Tensor& x) {
  return module_->forward({x}).toTensor();
}

void TorchScriptBodyImpl::train(bool on) {
  BodyImpl::train(on);
  module_->train(on);
}

}  // namespace hptrain::models
