// ECAPA-TDNN (Desplanques et al., Interspeech 2020), as SpeechBrain's ECAPA_TDNN builds it:
// [B, rows, T] log-mel or MFCC -> embedding [B, embedding_dim]. Each block a small module.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "hptrain/models/config.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pooling.h"

namespace hptrain::models {

// Conv1d (zero "same" padding, bias) -> ReLU -> batch norm: [B, in, T] -> [B, out, T].
// ref: SpeechBrain's TDNNBlock (which pads by reflection; zeros here keep T = 1 valid).
//   TdnnBlock tdnn(80, 512, 5, 1);  tdnn(torch::rand({8, 80, 120})) -> [8, 512, 120]
class TdnnBlockImpl : public torch::nn::Module {
 public:
  TdnnBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv1d conv_{nullptr};
  torch::nn::BatchNorm1d norm_{nullptr};
};
TORCH_MODULE(TdnnBlock);

// Res2Net: the channels split in `scale` groups; group 0 passes, group i > 0 goes through a TDNN
// block after adding the previous group's output: [B, C, T] -> [B, C, T].
//   Res2NetBlock r(64, 4, 3, 3);  r(torch::rand({8, 64, 120})) -> [8, 64, 120]
class Res2NetBlockImpl : public torch::nn::Module {
 public:
  Res2NetBlockImpl(int64_t channels, int64_t scale, int64_t kernel, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t scale_;
  std::vector<TdnnBlock> blocks_;
};
TORCH_MODULE(Res2NetBlock);

// Squeeze-excitation: x * sigmoid(conv(relu(conv(mean over time of x)))): [B, C, T] -> same.
//   SEBlock se(64, 16);  se(torch::rand({8, 64, 120})) -> [8, 64, 120]
class SEBlockImpl : public torch::nn::Module {
 public:
  SEBlockImpl(int64_t channels, int64_t se_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(SEBlock);

// TDNN (1x1) -> Res2Net (kernel, dilation) -> TDNN (1x1) -> SE, plus the input (through a 1x1
// conv when the channels change): [B, in, T] -> [B, out, T].
//   SERes2NetBlock b(64, 64, 8, 128, 3, 2);  b(torch::rand({8, 64, 120})) -> [8, 64, 120]
class SERes2NetBlockImpl : public torch::nn::Module {
 public:
  SERes2NetBlockImpl(int64_t in, int64_t out, int64_t scale, int64_t se_channels, int64_t kernel,
                     int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  TdnnBlock tdnn1_{nullptr}, tdnn2_{nullptr};
  Res2NetBlock res2net_{nullptr};
  SEBlock se_{nullptr};
  torch::nn::Conv1d shortcut_{nullptr};
};
TORCH_MODULE(SERes2NetBlock);

// The body: front TDNN (kernel 5) -> SE-Res2Net blocks (kernel 3, dilations 2, 3, 4) -> the
// three blocks' outputs concatenated -> TDNN 1x1 to channels[4] (multi-layer feature
// aggregation) -> attentive statistics pooling -> batch norm -> linear to embedding_dim.
// Children: front, block1..block3, mfa, asp, asp_bn, fc.
//   ModelConfig c; c.type = "ecapa"; c.channels = kEcapaChannels;
//   EcapaBody body(c, 80);  body(torch::rand({5, 80, 120})) -> [5, 192]
class EcapaBodyImpl : public BodyImpl {
 public:
  EcapaBodyImpl(const ModelConfig& cfg, int64_t rows);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_features() const override { return embedding_dim_; }

 private:
  int64_t embedding_dim_;
  TdnnBlock front_{nullptr}, mfa_{nullptr};
  std::vector<SERes2NetBlock> blocks_;
  AttentiveStatisticsPooling asp_{nullptr};
  torch::nn::BatchNorm1d asp_bn_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(EcapaBody);

}  // namespace hptrain::models
