// Additive angular margin softmax head (ArcFace): logits s * cos(theta_j) between an embedding
// and each class's weight vector, with cos(theta_y + m) for the target class y when targets are
// given (training). Matches WeSpeaker's ArcMarginProduct and SpeechBrain's AdditiveAngularMargin.
// [B, D] -> [B, classes], float32 (computed outside bf16 autocast).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace hptrain::models {

// The keys of [model] (ModelConfig's margin, scale, easy_margin), with the papers' defaults.
struct AamOptions {
  double margin = 0.2;       // m, radians
  double scale = 30;         // s
  bool easy_margin = false;  // margin only where cos > 0; else cos - m sin(m) past theta > pi - m
};

// The logits from cosines [B, K] and int64 targets [B]. An undefined `target` gives s * cos (the
// probabilities at evaluation: softmax of s * cos, no margin). With targets, the target class
// gets s * phi, phi = cos(theta + m) where theta + m stays below pi (ref: wespeaker/models/
// projections.py ArcMarginProduct: `torch.where(cosine > self.th, phi, cosine - self.mmm)`,
// th = cos(pi - m), mmm = 1 + cos(pi - m)); every other class s * cos.
torch::Tensor aam_logits(const torch::Tensor& cosine, const torch::Tensor& target,
                         const AamOptions& opts);

// The head: a weight [classes, D] (Xavier-uniform), no bias.
//   AdditiveAngularMargin aam(192, 10, {});  aam(torch::randn({8, 192}), labels) -> [8, 10]
class AdditiveAngularMarginImpl : public torch::nn::Module {
 public:
  AdditiveAngularMarginImpl(int64_t in_features, int64_t classes, AamOptions opts);
  // cos(theta): normalised x times normalised weights, float32, [B, classes].
  torch::Tensor cosine(const torch::Tensor& x);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& target = {});
  const AamOptions& options() const { return opts_; }

 private:
  AamOptions opts_;
  torch::Tensor weight_;
};
TORCH_MODULE(AdditiveAngularMargin);

}  // namespace hptrain::models
