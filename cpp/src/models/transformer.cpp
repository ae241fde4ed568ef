#include "hptrain/models/transformer.h"

#include <cmath>
#include <string>

namespace hptrain::models {

namespace nn = torch::nn;

torch::Tensor sinusoidal_positions(int64_t frames, int64_t d) {
  // ref: espnet/nets/pytorch_backend/transformer/embedding.py PositionalEncoding.extend_pe
  const auto pos = torch::arange(frames, torch::kFloat32).unsqueeze(1);                // [T, 1]
  const auto even = torch::arange(0, d, 2, torch::kFloat32);                           // 2i
  const auto rate = torch::exp(even * (-std::log(10000.0) / static_cast<double>(d)));  // [d/2]
  auto pe = torch::zeros({frames, d});
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, d, 2)},
                torch::sin(pos * rate));
  // odd d: one cosine column fewer than sines
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, d, 2)},
                torch::cos(pos * rate).narrow(1, 0, d / 2));
  return pe;
}

ConvSubsamplingImpl::ConvSubsamplingImpl(int64_t rows, int64_t d_model, int64_t channels) {
  conv1_ =
      register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, channels, 3).stride(2).padding(1)));
  conv2_ = register_module(
      "conv2", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).stride(2).padding(1)));
  out_ = register_module("out", nn::Linear(channels * frames(rows), d_model));
}

torch::Tensor ConvSubsamplingImpl::forward(const torch::Tensor& x) {
  // [B, rows, T] -> [B, 1, T, rows]: time first, as ESPnet's (B, 1, T, idim)
  auto h = torch::relu(conv1_->forward(x.transpose(1, 2).unsqueeze(1)));
  h = torch::relu(conv2_->forward(h));                 // [B, C, T', rows']
  return out_->forward(h.transpose(1, 2).flatten(2));  // [B, T', C * rows'] -> [B, T', d]
}

SelfAttentionImpl::SelfAttentionImpl(int64_t d_model, int64_t heads, double dropout)
    : heads_(heads) {
  qkv_ = register_module("qkv", nn::Linear(d_model, 3 * d_model));
  out_ = register_module("out", nn::Linear(d_model, d_model));
  dropout_ = register_module("dropout", nn::Dropout(dropout));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), dh = d / heads_;
  // [B, T, 3d] -> 3 x [B, heads, T, dh]
  const auto qkv = qkv_->forward(x).view({b, t, 3, heads_, dh}).permute({2, 0, 3, 1, 4});
  const auto q = qkv[0], k = qkv[1], v = qkv[2];
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  if (mask.defined()) {
    scores = scores.masked_fill(mask.view({b, 1, 1, t}), -std::numeric_limits<float>::infinity());
  }
  const auto w = dropout_->forward(torch::softmax(scores, -1));
  const auto h = torch::matmul(w, v).transpose(1, 2).reshape({b, t, d});
  return out_->forward(h);
}

EncoderBlockImpl::EncoderBlockImpl(int64_t d_model, int64_t heads, int64_t ff_dim, double dropout) {
  ln1_ = register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  attention_ = register_module("attention", SelfAttention(d_model, heads, dropout));
  ln2_ = register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  ff1_ = register_module("ff1", nn::Linear(d_model, ff_dim));
  ff2_ = register_module("ff2", nn::Linear(ff_dim, d_model));
  dropout_ = register_module("dropout", nn::Dropout(dropout));
}

torch::Tensor EncoderBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = x + dropout_->forward(attention_->forward(ln1_->forward(x), mask));
  const auto ff = ff2_->forward(dropout_->forward(torch::gelu(ff1_->forward(ln2_->forward(h)))));
  return h + dropout_->forward(ff);
}

TransformerBodyImpl::TransformerBodyImpl(const ModelConfig& cfg, int64_t rows)
    : pooling_(cfg.pooling), d_model_(cfg.d_model) {
  subsample_ = register_module(
      "subsample",
      ConvSubsampling(rows, d_model_,
                      cfg.subsampling_channels > 0 ? cfg.subsampling_channels : d_model_));
  if (pooling_ == "cls") {
    cls_ = register_parameter("cls", torch::randn({1, 1, d_model_}) * 0.02);
  }
  dropout_ = register_module("dropout", nn::Dropout(cfg.dropout));
  for (int i = 0; i < cfg.layers; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i),
                                      EncoderBlock(d_model_, cfg.heads, cfg.ff_dim, cfg.dropout)));
  }
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({d_model_})));
  if (pooling_ == "attentive_stats") {
    asp_ = register_module(
        "asp", AttentiveStatisticsPooling(d_model_, cfg.attention_channels, cfg.global_context));
  }
}

torch::Tensor TransformerBodyImpl::encode(const torch::Tensor& x) {
  auto h = subsample_->forward(x);  // [B, T', d]
  h = h * std::sqrt(static_cast<double>(d_model_)) +
      sinusoidal_positions(h.size(1), d_model_).to(h.device(), h.scalar_type());
  if (cls_.defined()) h = torch::cat({cls_.to(h.scalar_type()).expand({h.size(0), 1, -1}), h}, 1);
  h = dropout_->forward(h);
  for (auto& b : blocks_) h = b->forward(h);
  return norm_->forward(h);
}

torch::Tensor TransformerBodyImpl::forward(const torch::Tensor& x) {
  const auto h = encode(x);
  if (pooling_ == "cls") return h.select(1, 0);
  if (pooling_ == "attentive_stats") return asp_->forward(h.transpose(1, 2));
  return h.mean(1);
}

int64_t TransformerBodyImpl::out_features() const {
  return pooling_ == "attentive_stats" ? 2 * d_model_ : d_model_;
}

}  // namespace hptrain::models
