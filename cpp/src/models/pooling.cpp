#include "hptrain/models/pooling.h"

namespace hptrain::models {

namespace nn = torch::nn;

torch::Tensor mean_and_std(const torch::Tensor& mean, const torch::Tensor& var) {
  return torch::cat({mean, (var + kStdEpsilon).sqrt()}, 1);
}

std::pair<torch::Tensor, torch::Tensor> weighted_mean_var(const torch::Tensor& x,
                                                          const torch::Tensor& w, int64_t dim) {
  const auto mean = (w * x).sum(dim);
  // the squared deviations from the mean (not E[x^2] - E[x]^2, which rounding can take below 0)
  const auto var = (w * (x - mean.unsqueeze(dim)).pow(2)).sum(dim);
  return {mean, var};
}

AttentiveStatisticsPoolingImpl::AttentiveStatisticsPoolingImpl(int64_t channels,
                                                               int64_t attention_channels,
                                                               bool global_context)
    : global_context_(global_context) {
  const int64_t in = global_context ? 3 * channels : channels;
  // ref: SpeechBrain's TDNNBlock(channels * 3, attention_channels, 1, 1): conv, ReLU, batch norm
  tdnn_ = register_module(
      "tdnn", nn::Sequential(nn::Conv1d(nn::Conv1dOptions(in, attention_channels, 1)), nn::ReLU(),
                             nn::BatchNorm1d(attention_channels)));
  conv_ = register_module("conv", nn::Conv1d(nn::Conv1dOptions(attention_channels, channels, 1)));
}

torch::Tensor AttentiveStatisticsPoolingImpl::attention(const torch::Tensor& x) {
  torch::Tensor a = x;
  if (global_context_) {
    const int64_t t = x.size(2);
    const auto mean = x.mean(2, /*keepdim=*/true);
    const auto std = (x.var(2, /*unbiased=*/false, /*keepdim=*/true) + kStdEpsilon).sqrt();
    a = torch::cat({x, mean.expand({-1, -1, t}), std.expand({-1, -1, t})}, 1);
  }
  return torch::softmax(conv_->forward(torch::tanh(tdnn_->forward(a))), 2);
}

torch::Tensor AttentiveStatisticsPoolingImpl::forward(const torch::Tensor& x) {
  const auto [mean, var] = weighted_mean_var(x, attention(x), 2);
  return mean_and_std(mean, var);
}

}  // namespace hptrain::models
