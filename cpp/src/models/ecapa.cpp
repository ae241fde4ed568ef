#include "hptrain/models/ecapa.h"

#include <string>

namespace hptrain::models {

namespace nn = torch::nn;

TdnnBlockImpl::TdnnBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation) {
  conv_ = register_module(
      "conv", nn::Conv1d(nn::Conv1dOptions(in, out, kernel)
                             .dilation(dilation)
                             .padding(dilation * (kernel - 1) / 2)));  // same length, odd kernel
  norm_ = register_module("norm", nn::BatchNorm1d(out));
}

torch::Tensor TdnnBlockImpl::forward(const torch::Tensor& x) {
  return norm_->forward(torch::relu(conv_->forward(x)));
}

Res2NetBlockImpl::Res2NetBlockImpl(int64_t channels, int64_t scale, int64_t kernel,
                                   int64_t dilation)
    : scale_(scale) {
  const int64_t width = channels / scale;
  for (int64_t i = 1; i < scale; ++i) {
    blocks_.push_back(
        register_module("block" + std::to_string(i), TdnnBlock(width, width, kernel, dilation)));
  }
}

torch::Tensor Res2NetBlockImpl::forward(const torch::Tensor& x) {
  // ref: speechbrain Res2NetBlock.forward: y_1 = x_1, y_2 = K_2(x_2), y_i = K_i(x_i + y_{i-1})
  const auto groups = x.chunk(scale_, 1);
  std::vector<torch::Tensor> y{groups[0]};
  for (int64_t i = 1; i < scale_; ++i) {
    const auto in = i == 1 ? groups[i] : groups[i] + y.back();
    y.push_back(blocks_[i - 1]->forward(in));
  }
  return torch::cat(y, 1);
}

SEBlockImpl::SEBlockImpl(int64_t channels, int64_t se_channels) {
  conv1_ = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(channels, se_channels, 1)));
  conv2_ = register_module("conv2", nn::Conv1d(nn::Conv1dOptions(se_channels, channels, 1)));
}

torch::Tensor SEBlockImpl::forward(const torch::Tensor& x) {
  const auto s = x.mean(2, /*keepdim=*/true);
  return x * torch::sigmoid(conv2_->forward(torch::relu(conv1_->forward(s))));
}

SERes2NetBlockImpl::SERes2NetBlockImpl(int64_t in, int64_t out, int64_t scale, int64_t se_channels,
                                       int64_t kernel, int64_t dilation) {
  tdnn1_ = register_module("tdnn1", TdnnBlock(in, out, 1, 1));
  res2net_ = register_module("res2net", Res2NetBlock(out, scale, kernel, dilation));
  tdnn2_ = register_module("tdnn2", TdnnBlock(out, out, 1, 1));
  se_ = register_module("se", SEBlock(out, se_channels));
  if (in != out) shortcut_ = register_module("shortcut", nn::Conv1d(nn::Conv1dOptions(in, out, 1)));
}

torch::Tensor SERes2NetBlockImpl::forward(const torch::Tensor& x) {
  const auto residual = shortcut_ ? shortcut_->forward(x) : x;
  return se_->forward(tdnn2_->forward(res2net_->forward(tdnn1_->forward(x)))) + residual;
}

EcapaBodyImpl::EcapaBodyImpl(const ModelConfig& cfg, int64_t rows)
    : embedding_dim_(cfg.embedding_dim) {
  cfg.validate();
  const auto& c = cfg.channels;  // 5 entries (validated)
  front_ = register_module("front", TdnnBlock(rows, c[0], 5, 1));
  const int64_t dilations[] = {2, 3, 4};  // the paper's, SpeechBrain's and WeSpeaker's
  int64_t aggregated = 0;
  for (int i = 1; i <= 3; ++i) {
    blocks_.push_back(register_module(
        "block" + std::to_string(i),
        SERes2NetBlock(c[i - 1], c[i], cfg.res2net_scale, cfg.se_channels, 3, dilations[i - 1])));
    aggregated += c[i];
  }
  mfa_ = register_module("mfa", TdnnBlock(aggregated, c[4], 1, 1));
  asp_ = register_module(
      "asp", AttentiveStatisticsPooling(c[4], cfg.attention_channels, cfg.global_context));
  asp_bn_ = register_module("asp_bn", nn::BatchNorm1d(2 * c[4]));
  fc_ = register_module("fc", nn::Linear(2 * c[4], cfg.embedding_dim));
}

torch::Tensor EcapaBodyImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = front_->forward(x);
  std::vector<torch::Tensor> outs;
  for (auto& b : blocks_) {
    h = b->forward(h);
    outs.push_back(h);
  }
  h = asp_->forward(mfa_->forward(torch::cat(outs, 1)));  // [B, 2 * channels[4]]
  // one example (a last batch of one) has no batch statistics: its running ones normalise it
  const bool single = is_training() && h.size(0) == 1;
  if (single) asp_bn_->eval();
  h = asp_bn_->forward(h);
  if (single) asp_bn_->train();
  return fc_->forward(h);
}

}  // namespace hptrain::models
