// Pooling over time shared by the LibTorch bodies: mean and standard deviation (plain or under
// attention weights), and ECAPA's channel-wise attentive statistics pooling with global context
// (SpeechBrain's AttentiveStatisticsPooling, WeSpeaker's ASTP). x: [B, C, T] float32.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>

namespace hptrain::models {

// Added to the variance under the square root: keeps the gradient finite where a feature is
// constant over time (one frame, silence).
constexpr double kStdEpsilon = 1e-5;

// cat({mean, sqrt(var + kStdEpsilon)}, 1): statistics pooling's output.
torch::Tensor mean_and_std(const torch::Tensor& mean, const torch::Tensor& var);

// The mean and the variance of x over `dim` under weights w (summing to 1 over `dim`,
// broadcastable to x): sum(w x), sum(w (x - mean)^2). `dim` is removed from both.
std::pair<torch::Tensor, torch::Tensor> weighted_mean_var(const torch::Tensor& x,
                                                          const torch::Tensor& w, int64_t dim);

// ref: speechbrain/lobes/models/ECAPA_TDNN.py AttentiveStatisticsPooling. Per channel and frame
// an attention score e = conv(tanh(bn(relu(tdnn([x; mean; std]))))) (mean and std of the whole
// input repeated over time when global_context), softmax over time, then the weighted mean and
// standard deviation: [B, C, T] -> [B, 2C]. Children: "tdnn" (0 conv, 2 batch norm), "conv".
//   AttentiveStatisticsPooling asp(64, 128, true);  asp(torch::rand({8, 64, 120})) -> [8, 128]
class AttentiveStatisticsPoolingImpl : public torch::nn::Module {
 public:
  AttentiveStatisticsPoolingImpl(int64_t channels, int64_t attention_channels, bool global_context);
  torch::Tensor forward(const torch::Tensor& x);
  // The attention weights, softmax over time: [B, C, T].
  torch::Tensor attention(const torch::Tensor& x);

 private:
  bool global_context_;
  torch::nn::Sequential tdnn_{nullptr};
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(AttentiveStatisticsPooling);

}  // namespace hptrain::models
