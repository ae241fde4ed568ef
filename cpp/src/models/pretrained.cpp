#include "hptrain/models/pretrained.h"

#include <filesystem>

#include "hptrain/error.h"
#include "hptrain/models/script_module.h"

namespace hptrain::models {

namespace {

const char* const kExpected =
    "expected forward(waveforms [B, T] float32, lengths [B] int64) -> a list of hidden states "
    "[B, frames, D], one per layer (scripts/export_encoder.py)";

std::string encoder_name(const std::string& path) {
  return "encoder '" + path + "'";
}

// The list of hidden states in what forward returned: a list of tensors, or a tuple whose first
// element is one.
std::vector<torch::Tensor> as_hidden_states(const c10::IValue& out, const std::string& path) {
  c10::IValue list = out;
  if (out.isTuple() && !out.toTupleRef().elements().empty()) {
    list = out.toTupleRef().elements()[0];
  }
  if (!list.isTensorList()) {
    throw InputError(encoder_name(path) + " returned " + out.tagKind() + ": " + kExpected);
  }
  std::vector<torch::Tensor> hs = list.toTensorVector();
  if (hs.empty()) throw InputError(encoder_name(path) + " returned an empty list: " + kExpected);
  for (size_t i = 0; i < hs.size(); ++i) {
    if (hs[i].dim() != 3 || hs[i].sizes() != hs[0].sizes()) {
      throw InputError(encoder_name(path) + ": hidden state " + std::to_string(i) + " is " +
                       c10::str(hs[i].sizes()) + " (the first " + c10::str(hs[0].sizes()) +
                       "): " + kExpected);
    }
  }
  return hs;
}

}  // namespace

std::vector<torch::Tensor> encoder_hidden_states(torch::jit::Module& encoder,
                                                 const torch::Tensor& waves,
                                                 const std::string& path) {
  const auto lengths = torch::full({waves.size(0)}, waves.size(1),
                                   torch::TensorOptions(torch::kLong).device(waves.device()));
  c10::IValue out;
  try {
    out = encoder.forward({waves, lengths});
  } catch (const c10::Error& e) {
    throw InputError(encoder_name(path) + " failed on waveforms " + c10::str(waves.sizes()) + ": " +
                     e.what_without_backtrace() + " (" + kExpected + ")");
  }
  auto hs = as_hidden_states(out, path);
  if (hs[0].size(0) != waves.size(0)) {
    throw InputError(encoder_name(path) + " returned hidden states " + c10::str(hs[0].sizes()) +
                     " for a batch of " + std::to_string(waves.size(0)) + ": " + kExpected);
  }
  return hs;
}

std::pair<torch::jit::Module, EncoderInfo> load_encoder(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError("cannot read " + encoder_name(path) +
                     " (model.encoder): no such file; scripts/export_encoder.py makes one from a "
                     "checkpoint");
  }
  // with its GELU backward rerouted (script_module.h)
  torch::jit::Module m = load_script_module(path, encoder_name(path) + " (model.encoder)");
  EncoderInfo info;
  if (!m.hasattr("sample_rate") || !m.attr("sample_rate").isInt()) {
    throw InputError(encoder_name(path) + " has no integer attribute sample_rate: expected " +
                     std::to_string(kEncoderSampleRate) + " (scripts/export_encoder.py sets it)");
  }
  info.sample_rate = m.attr("sample_rate").toInt();
  if (info.sample_rate != kEncoderSampleRate) {
    throw InputError(encoder_name(path) + " takes audio at " + std::to_string(info.sample_rate) +
                     " Hz; expected an encoder of " + std::to_string(kEncoderSampleRate) +
                     " Hz waveforms");
  }
  const bool training = m.is_training();
  m.eval();
  {
    torch::NoGradGuard no_grad;
    const auto hs = encoder_hidden_states(m, torch::zeros({1, kEncoderSampleRate}), path);
    info.layers = static_cast<int64_t>(hs.size());
    info.hidden = hs[0].size(2);
  }
  m.train(training);
  return {std::move(m), info};
}

PretrainedBodyImpl::PretrainedBodyImpl(const ModelConfig& cfg)
    : path_(cfg.encoder), layer_(cfg.encoder_layer), pooling_(cfg.pooling) {
  std::tie(encoder_, info_) = load_encoder(path_);
  if (layer_ >= info_.layers) {
    throw ConfigError("model.layers = " + std::to_string(layer_) + ": " + encoder_name(path_) +
                      " returns " + std::to_string(info_.layers) + " layers (indices 0 to " +
                      std::to_string(info_.layers - 1) + ")");
  }
  // the file's tensors, shared (not copied): the optimiser and Module::to/save/load reach them
  auto holder = std::make_shared<torch::nn::Module>("Encoder");
  share_script_tensors(*holder, encoder_, encoder_name(path_));
  register_module("encoder", holder);
  if (layer_ < 0)
    layer_weights_ = register_parameter("layer_weights", torch::zeros({info_.layers}));
  if (pooling_ == "attentive_stats") {
    asp_ = register_module("asp", AttentiveStatisticsPooling(info_.hidden, cfg.attention_channels,
                                                             cfg.global_context));
  }
}

void PretrainedBodyImpl::train(bool on) {
  torch::nn::Module::train(on);
  encoder_.train(on);
}

torch::Tensor PretrainedBodyImpl::layer_weights() const {
  if (layer_ >= 0) return torch::one_hot(torch::tensor(layer_), info_.layers).to(torch::kFloat32);
  return torch::softmax(layer_weights_.detach().to(torch::kFloat32), 0);
}

torch::Tensor PretrainedBodyImpl::forward(const torch::Tensor& x) {
  const auto hs = encoder_hidden_states(encoder_, x.select(1, 0), path_);
  torch::Tensor h;  // [B, frames, D]
  if (layer_ >= 0) {
    h = hs[static_cast<size_t>(layer_)];
  } else {
    // ref: s3prl/upstream/interfaces.py Featurizer._weighted_sum (without its layer norm)
    const auto w = torch::softmax(layer_weights_, 0).to(hs[0].scalar_type());
    h = (torch::stack(hs, 0) * w.view({-1, 1, 1, 1})).sum(0);
  }
  if (pooling_ == "attentive_stats") return asp_->forward(h.transpose(1, 2));
  return h.mean(1);
}

int64_t PretrainedBodyImpl::out_features() const {
  return pooling_ == "attentive_stats" ? 2 * info_.hidden : info_.hidden;
}

namespace {

bool is_encoder(const std::string& name) {
  return name.rfind("body.encoder.", 0) == 0;
}

}  // namespace

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> parameter_groups(
    torch::nn::Module& net) {
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> out;
  for (const auto& p : net.named_parameters()) {
    (is_encoder(p.key()) ? out.second : out.first).push_back(p.value());
  }
  return out;
}

double encoder_lr_factor(const ModelConfig& cfg, double lr, int epoch) {
  if (epoch < cfg.freeze_epochs) return 0;
  return cfg.encoder_lr > 0 && lr > 0 ? cfg.encoder_lr / lr : 1;
}

void set_encoder_trainable(torch::nn::Module& net, bool on) {
  for (auto& p : net.named_parameters()) {
    if (is_encoder(p.key())) p.value().set_requires_grad(on);
  }
}

void check_encoder_sample_rate(torch::nn::Module& net, int64_t data_sr, const std::string& shards) {
  const auto children = net.named_children();
  const auto* body = children.find("body");
  if (body == nullptr) return;
  const auto pretrained = std::dynamic_pointer_cast<PretrainedBodyImpl>(*body);
  if (pretrained == nullptr) return;
  if (data_sr != pretrained->info().sample_rate) {
    throw InputError("the shards in '" + shards + "' hold audio at " +
                     (data_sr > 0 ? std::to_string(data_sr) + " Hz" : "an unknown rate") +
                     "; the encoder takes " + std::to_string(pretrained->info().sample_rate) +
                     " Hz: set preprocess.sr = " + std::to_string(pretrained->info().sample_rate) +
                     " in the dataset file and run hptrain prepare again");
  }
}

}  // namespace hptrain::models
