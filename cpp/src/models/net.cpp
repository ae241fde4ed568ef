#include "hptrain/models/net.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "hptrain/error.h"
#include "hptrain/models/ecapa.h"
#include "hptrain/models/ge2e.h"
#include "hptrain/models/pooling.h"
#include "hptrain/models/pretrained.h"
#include "hptrain/models/transformer.h"

namespace hptrain::models {
namespace {

namespace nn = torch::nn;

// An eval-mode batch norm folded into the convolution before it: weights scaled per output
// channel by gamma / sqrt(running_var + eps), bias beta - running_mean * that scale.
template <class Conv, class Norm>
std::pair<torch::Tensor, torch::Tensor> fold(Conv& conv, Norm& bn) {
  const auto scale = bn.weight / (bn.running_var + bn.options.eps()).sqrt();
  std::vector<int64_t> shape(static_cast<size_t>(conv.weight.dim()), 1);
  shape[0] = -1;
  return {conv.weight * scale.view(shape), bn.bias - bn.running_mean * scale};
}

// max_pool2d(x, 2, ceil_mode = true) of [B, C, H, W] as the maximum of four strided views (an
// odd side padded with -inf): the same values, a third of ATen 1.13's CPU time on 8 x 64 x 12001.
torch::Tensor max_pool_2x2(torch::Tensor x) {
  namespace ix = torch::indexing;
  const int64_t h = x.size(2), w = x.size(3);
  if (h % 2 != 0 || w % 2 != 0) {
    x = torch::constant_pad_nd(x, {0, w % 2, 0, h % 2}, -std::numeric_limits<double>::infinity());
  }
  const auto even = ix::Slice(0, ix::None, 2), odd = ix::Slice(1, ix::None, 2);
  const auto rows = torch::maximum(x.index({ix::Slice(), ix::Slice(), even}),
                                   x.index({ix::Slice(), ix::Slice(), odd}));
  return torch::maximum(rows.index({ix::Slice(), ix::Slice(), ix::Slice(), even}),
                        rows.index({ix::Slice(), ix::Slice(), ix::Slice(), odd}));
}

// Log-mel CNN: blocks of conv 3x3 -> batch norm -> ReLU -> 2x2 max pool (ceil mode, so that
// any length >= 1 survives every block); the channels x remaining bands of each frame projected
// (1x1 conv, batch norm, ReLU) to channels.back() features, which keeps where in frequency a
// pattern was; then a global pooling over time: mean, max, mean and max, or mean and standard
// deviation (statistics pooling, as speaker-embedding networks do).
class CnnBodyImpl : public BodyImpl {
 public:
  CnnBodyImpl(const ModelConfig& cfg, int64_t rows) : pooling_(cfg.time_pooling) {
    int64_t in = 1, bands = rows;
    for (size_t i = 0; i < cfg.channels.size(); ++i) {
      const int64_t out = cfg.channels[i];
      nn::Sequential block(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)),
                           nn::BatchNorm2d(out), nn::ReLU(nn::ReLUOptions().inplace(true)),
                           nn::MaxPool2d(nn::MaxPool2dOptions(2).ceil_mode(true)));
      blocks_.push_back(register_module("block" + std::to_string(i), block));
      in = out;
      bands = (bands + 1) / 2;
    }
    channels_ = cfg.channels.back();
    project_ = register_module(
        "project",
        nn::Sequential(nn::Conv1d(nn::Conv1dOptions(in * bands, channels_, 1).bias(false)),
                       nn::BatchNorm1d(channels_), nn::ReLU(nn::ReLUOptions().inplace(true))));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const auto h = frames(x);
    if (pooling_ == "mean") return h.mean(2);
    if (pooling_ == "max") return std::get<0>(h.max(2));
    if (pooling_ == "mean_std") return mean_and_std(h.mean(2), h.var(2, /*unbiased=*/false));
    return torch::cat({h.mean(2), std::get<0>(h.max(2))}, 1);
  }

  int64_t frame_stride() const override { return int64_t{1} << blocks_.size(); }

  // [B, rows, T] -> [B, C, ceil(T / frame_stride())]: the projected frames before the pooling
  // over time. In eval mode each block runs as conv with its batch norm folded in (weights and
  // a bias), then the 2x2 max pool, then ReLU (max pool and ReLU commute, so ReLU sees a quarter
  // of the values), the pool taken as the maximum of four strided views: the same values as
  // training's conv -> batch norm -> ReLU -> max_pool2d up to float rounding (tests/models),
  // and about twice as fast on the CPU (bench/results/2026-12-06-cpu-embed-fast.md).
  torch::Tensor frames(const torch::Tensor& x) override {
    torch::Tensor h = x.unsqueeze(1);  // [B, 1, rows, T]
    if (is_training()) {
      for (auto& b : blocks_) h = b->forward(h);
      return project_->forward(h.flatten(1, 2));  // [B, C * bands, T'] -> [B, C, T']
    }
    for (auto& b : blocks_) {
      const auto [w, bias] = fold(*b[0]->as<nn::Conv2dImpl>(), *b[1]->as<nn::BatchNorm2dImpl>());
      h = max_pool_2x2(torch::conv2d(h, w, bias, 1, 1));
      h.relu_();
    }
    const auto [w, bias] =
        fold(*project_[0]->as<nn::Conv1dImpl>(), *project_[1]->as<nn::BatchNorm1dImpl>());
    h = torch::conv1d(h.flatten(1, 2), w, bias);
    h.relu_();
    return h.to(torch::kFloat32);
  }

  // Weighted statistics over time of frames [B, C, T'] (w [B, T'] >= 0, each row summing to
  // > 0): the weighted mean and standard deviation, and the maximum over the frames of weight
  // >= 0.5. All weights 1 is forward's pooling.
  torch::Tensor pool_frames(const torch::Tensor& h, const torch::Tensor& w) override {
    const auto wn = (w / w.sum(1, /*keepdim=*/true)).unsqueeze(1);  // [B, 1, T']
    const auto [mean, var] = weighted_mean_var(h, wn, 2);
    if (pooling_ == "mean") return mean;
    if (pooling_ == "mean_std") return mean_and_std(mean, var);
    const auto mx = std::get<0>(
        h.masked_fill((w < 0.5).unsqueeze(1), -std::numeric_limits<float>::infinity()).max(2));
    return pooling_ == "max" ? mx : torch::cat({mean, mx}, 1);
  }

  int64_t out_features() const override {
    return pooling_ == "mean_max" || pooling_ == "mean_std" ? 2 * channels_ : channels_;
  }

 private:
  std::string pooling_;
  std::vector<nn::Sequential> blocks_;
  nn::Sequential project_{nullptr};
  int64_t channels_ = 0;
};

// MFCC BiLSTM: frames averaged `frame_stride` at a time, a stacked (bidirectional) LSTM, then
// attention pooling (softmax over time of a learned score), attentive statistics pooling (the
// weighted mean and standard deviation under those weights), or the mean over time.
class LstmBodyImpl : public BodyImpl {
 public:
  LstmBodyImpl(const ModelConfig& cfg, int64_t rows)
      : stride_(cfg.frame_stride),
        pooling_(cfg.pooling),
        features_(cfg.hidden_size * (cfg.bidirectional ? 2 : 1)) {
    lstm_ = register_module("lstm", nn::LSTM(nn::LSTMOptions(rows, cfg.hidden_size)
                                                 .num_layers(cfg.num_layers)
                                                 .bidirectional(cfg.bidirectional)
                                                 .batch_first(true)
                                                 .dropout(cfg.num_layers > 1 ? cfg.dropout : 0.0)));
    if (pooling_ != "mean") score_ = register_module("score", nn::Linear(features_, 1));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = x;  // [B, rows, T]
    if (stride_ > 1) {
      h = torch::avg_pool1d(h, {stride_}, {stride_}, {0}, /*ceil_mode=*/true);
    }
    h = std::get<0>(lstm_->forward(h.transpose(1, 2)));  // [B, T', features]
    if (pooling_ == "mean") return h.mean(1);
    const auto w = torch::softmax(score_->forward(h), 1);  // [B, T', 1]
    const auto [mean, var] = weighted_mean_var(h, w, 1);
    return pooling_ == "attention" ? mean : mean_and_std(mean, var);
  }

  int64_t out_features() const override {
    return pooling_ == "attention_stats" ? 2 * features_ : features_;
  }

 private:
  int64_t stride_;
  std::string pooling_;
  int64_t features_;
  nn::LSTM lstm_{nullptr};
  nn::Linear score_{nullptr};
};
TORCH_MODULE(CnnBody);
TORCH_MODULE(LstmBody);

}  // namespace

NetImpl::NetImpl(const ModelConfig& cfg, int64_t rows, std::vector<int64_t> classes,
                 const std::vector<std::string>& tasks) {
  cfg.validate();
  if (rows <= 0 || classes.empty()) {
    throw ConfigError("model: needs input rows > 0 and at least one task");
  }
  mean_ = register_buffer("input_mean", torch::zeros({1, rows, 1}));
  inv_std_ = register_buffer("input_inv_std", torch::ones({1, rows, 1}));
  if (cfg.type == "cnn") {
    body_ = register_module<BodyImpl>("body", CnnBody(cfg, rows).ptr());
  } else if (cfg.type == "ecapa") {
    body_ = register_module<BodyImpl>("body", EcapaBody(cfg, rows).ptr());
  } else if (cfg.type == "ge2e") {
    body_ = register_module<BodyImpl>("body", Ge2eBody(cfg, rows).ptr());
    normalize_ = false;  // its weights (resemblyzer's) were trained on raw mel power
  } else if (cfg.type == "torchscript") {
    body_ = register_module<BodyImpl>("body", TorchScriptBody(cfg.weights, rows).ptr());
    normalize_ = false;  // the file's own front end
  } else if (cfg.type == "pretrained") {
    // the encoder takes waveforms as it was trained on them: no input normalisation
    normalize_ = false;
    body_ = register_module<BodyImpl>("body", PretrainedBody(cfg).ptr());
  } else if (cfg.type == "transformer") {
    body_ = register_module<BodyImpl>("body", TransformerBody(cfg, rows).ptr());
  } else {
    body_ = register_module<BodyImpl>("body", LstmBody(cfg, rows).ptr());
  }
  if (cfg.freeze_backbone) {
    for (auto& p : body_->parameters()) p.set_requires_grad(false);
  }
  if (cfg.loss == "aam") {
    const auto it = std::find(tasks.begin(), tasks.end(), cfg.loss_task);
    if (it == tasks.end() || tasks.size() != classes.size()) {
      std::string list;
      for (const auto& t : tasks) list += (list.empty() ? "" : ", ") + t;
      throw ConfigError("model.loss_task = '" + cfg.loss_task + "': not one of the run's tasks (" +
                        list + ")");
    }
    margin_task_ = it - tasks.begin();
  }
  dropout_ = register_module("dropout", nn::Dropout(cfg.dropout));
  for (size_t t = 0; t < classes.size(); ++t) {
    const std::string name = "head" + std::to_string(t);
    if (static_cast<int64_t>(t) == margin_task_) {
      heads_.emplace_back(nullptr);
      margin_ = register_module(
          name, AdditiveAngularMargin(body_->out_features(), classes[t],
                                      AamOptions{cfg.margin, cfg.scale, cfg.easy_margin}));
    } else {
      heads_.push_back(register_module(name, nn::Linear(body_->out_features(), classes[t])));
    }
  }
}

torch::Tensor NetImpl::embed(const torch::Tensor& x) {
  if (x.dim() != 3 || x.size(1) != mean_.size(1) || x.size(2) < 1) {
    throw InputError("model input: expected [B, " + std::to_string(mean_.size(1)) +
                     ", T >= 1], got " + c10::str(x.sizes()));
  }
  return body_->forward(normalize_ ? (x - mean_) * inv_std_ : x);
}

torch::Tensor NetImpl::embed_frames(const torch::Tensor& x) {
  if (frame_stride() == 0) throw Error("model: this body has no frame-level features");
  if (x.dim() != 3 || x.size(1) != mean_.size(1) || x.size(2) < 1) {
    throw InputError("model input: expected [B, " + std::to_string(mean_.size(1)) +
                     ", T >= 1], got " + c10::str(x.sizes()));
  }
  return body_->frames(normalize_ ? (x - mean_) * inv_std_ : x);
}

torch::Tensor NetImpl::pool_frames(const torch::Tensor& h, const torch::Tensor& w) {
  if (frame_stride() == 0) throw Error("model: this body has no frame-level features");
  return body_->pool_frames(h, w);
}

std::vector<torch::Tensor> NetImpl::forward(const torch::Tensor& x,
                                            const std::vector<torch::Tensor>& targets) {
  const auto features = dropout_->forward(embed(x));
  std::vector<torch::Tensor> out;
  for (size_t t = 0; t < heads_.size(); ++t) {
    if (static_cast<int64_t>(t) == margin_task_) {
      out.push_back(margin_->forward(features, t < targets.size() ? targets[t] : torch::Tensor()));
    } else {
      out.push_back(heads_[t]->forward(features));
    }
  }
  return out;
}

void NetImpl::set_normalization(const torch::Tensor& mean, const torch::Tensor& std) {
  if (!normalize_) return;
  torch::NoGradGuard no_grad;
  mean_.copy_(mean.reshape({1, -1, 1}));
  inv_std_.copy_(1.0 / std.clamp_min(1e-5).reshape({1, -1, 1}));
}

namespace {

void load_level(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                const std::string& where) {
  const auto name = [&where](const std::string& key) {
    return where.empty() ? key : where + "." + key;
  };
  auto params = module.named_parameters(/*recurse=*/false);
  auto buffers = module.named_buffers(/*recurse=*/false);
  const auto children = module.named_children();
  std::set<std::string> expected;
  for (const auto& p : params) expected.insert(p.key());
  for (const auto& b : buffers) expected.insert(b.key());
  for (const auto& c : children) expected.insert(c.key());
  for (const auto& key : archive.keys()) {
    // every TorchScript object has a `training` flag; it is not a key Module::save wrote
    if (key != "training" && expected.count(key) == 0) {
      throw InputError(name(key) + ": in the file, not in the model");
    }
  }
  const auto read_tensor = [&](const std::string& key, torch::Tensor& into, bool buffer) {
    torch::Tensor t;
    if (!archive.try_read(key, t, buffer)) {
      throw InputError(name(key) + ": in the model, not in the file");
    }
    if (t.sizes() != into.sizes() || t.scalar_type() != into.scalar_type()) {
      throw InputError(name(key) + ": " + c10::str(t.scalar_type(), t.sizes()) + " in the file, " +
                       c10::str(into.scalar_type(), into.sizes()) + " in the model");
    }
    torch::NoGradGuard no_grad;
    into.copy_(t);
  };
  for (auto& p : params) read_tensor(p.key(), p.value(), false);
  for (auto& b : buffers) read_tensor(b.key(), b.value(), true);
  for (const auto& c : children) {
    torch::serialize::InputArchive child;
    if (!archive.try_read(c.key(), child)) {
      throw InputError(name(c.key()) + ": in the model, not in the file");
    }
    load_level(*c.value(), child, name(c.key()));
  }
}

}  // namespace

void load_strict(torch::nn::Module& module, torch::serialize::InputArchive& archive) {
  load_level(module, archive, "");
}

}  // namespace hptrain::models
