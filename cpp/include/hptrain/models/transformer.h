// A transformer encoder on log-mel trained from scratch (model.type = "transformer"): [B, rows, T]
// -> conv subsampling 4x in time -> sinusoidal positions -> pre-norm blocks -> pooled [B, F].
// Written with plain layers (no torch::nn::TransformerEncoderLayer, whose options and layout
// differ between LibTorch 1.13 and 2.x), so the same weights load under both.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "hptrain/models/config.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pooling.h"

namespace hptrain::models {

// The sinusoidal positional encoding of "Attention is all you need" (3.5):
// pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(t / 10000^(2i/d)). [frames, d], float32.
torch::Tensor sinusoidal_positions(int64_t frames, int64_t d);

// Two conv 3x3, stride 2, ReLU (ESPnet's Conv2dSubsampling, padded by 1 so that any T >= 1
// gives ceil(ceil(T/2)/2) frames), then the channels x remaining bands of each frame projected
// to d_model: [B, rows, T] -> [B, T', d_model]. Children: conv1, conv2, out.
//   ConvSubsampling sub(80, 144, 144);  sub(torch::rand({8, 80, 301})) -> [8, 76, 144]
class ConvSubsamplingImpl : public torch::nn::Module {
 public:
  ConvSubsamplingImpl(int64_t rows, int64_t d_model, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  static int64_t frames(int64_t t) { return ((t + 1) / 2 + 1) / 2; }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(ConvSubsampling);

// Multi-head self-attention: softmax(q k^T / sqrt(d_head)) v per head, then an output
// projection; `mask` (bool [B, T], true = padding) keeps padded frames out of every key.
// Children: qkv (d -> 3d), out (d -> d).
//   SelfAttention att(64, 4, 0.1);  att(torch::rand({2, 10, 64})) -> [2, 10, 64]
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t d_model, int64_t heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {});

 private:
  int64_t heads_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(SelfAttention);

// Pre-norm encoder block (as wav2vec 2.0 Large, ViT): x + drop(att(ln1(x))), then
// x + drop(ff(ln2(x))) with ff = linear -> GELU -> dropout -> linear: [B, T, d] -> same.
// Children: ln1, attention, ln2, ff1, ff2.
class EncoderBlockImpl : public torch::nn::Module {
 public:
  EncoderBlockImpl(int64_t d_model, int64_t heads, int64_t ff_dim, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {});

 private:
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  SelfAttention attention_{nullptr};
  torch::nn::Linear ff1_{nullptr}, ff2_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(EncoderBlock);

// The body: subsampling -> scale by sqrt(d_model) and add positions (a learned [CLS] token
// first when pooling = cls) -> dropout -> blocks -> layer norm -> pooling: cls (the token's
// output), mean over frames, or attentive statistics (pooling.h; 2 d_model features).
// Children: subsample, (cls), block0.., norm, (asp).
//   ModelConfig c; c.type = "transformer"; c.pooling = "mean";
//   TransformerBody body(c, 80);  body(torch::rand({5, 80, 301})) -> [5, 144]
class TransformerBodyImpl : public BodyImpl {
 public:
  TransformerBodyImpl(const ModelConfig& cfg, int64_t rows);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_features() const override;

  // The frames after the last block and its norm, before pooling: [B, T' (+1 with cls), d].
  torch::Tensor encode(const torch::Tensor& x);

 private:
  std::string pooling_;
  int64_t d_model_;
  ConvSubsampling subsample_{nullptr};
  torch::Tensor cls_;
  torch::nn::Dropout dropout_{nullptr};
  std::vector<EncoderBlock> blocks_;
  torch::nn::LayerNorm norm_{nullptr};
  AttentiveStatisticsPooling asp_{nullptr};
};
TORCH_MODULE(TransformerBody);

}  // namespace hptrain::models
