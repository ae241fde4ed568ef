#include "hptrain/models/margin.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include <cmath>

namespace hptrain::models {

torch::Tensor aam_logits(const torch::Tensor& cosine, const torch::Tensor& target,
                         const AamOptions& opts) {
  if (!target.defined()) return cosine * opts.scale;
  const double m = opts.margin;
  // ref: SpeechBrain's AdditiveAngularMargin clamps away from +-1, where sqrt'(0) is infinite
  const auto cos = cosine.clamp(-1 + 1e-7, 1 - 1e-7);
  const auto sin = (1 - cos * cos).sqrt();
  auto phi = cos * std::cos(m) - sin * std::sin(m);  // cos(theta + m)
  if (opts.easy_margin) {
    phi = torch::where(cos > 0, phi, cos);
  } else {
    // past theta = pi - m, cos(theta + m) would rise again: continue by cos - (1 + cos(pi - m)),
    // which meets phi = -1 at the threshold (WeSpeaker's mmm)
    const double th = std::cos(M_PI - m);
    phi = torch::where(cos > th, phi, cos - (1 + th));
  }
  const auto one_hot = torch::zeros_like(cos).scatter_(1, target.reshape({-1, 1}), 1.0);
  return (one_hot * phi + (1 - one_hot) * cos) * opts.scale;
}

AdditiveAngularMarginImpl::AdditiveAngularMarginImpl(int64_t in_features, int64_t classes,
                                                     AamOptions opts)
    : opts_(opts) {
  weight_ = register_parameter("weight", torch::empty({classes, in_features}));
  torch::nn::init::xavier_uniform_(weight_);
}

torch::Tensor AdditiveAngularMarginImpl::cosine(const torch::Tensor& x) {
  // float32 whatever the caller's autocast: bf16 cosines (3 significant digits) times s = 30
  // would move the logits by about 0.1
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  namespace F = torch::nn::functional;
  const auto opts = F::NormalizeFuncOptions().dim(1);
  return F::linear(F::normalize(x.to(torch::kFloat32), opts),
                   F::normalize(weight_.to(torch::kFloat32), opts));
}

torch::Tensor AdditiveAngularMarginImpl::forward(const torch::Tensor& x,
                                                 const torch::Tensor& target) {
  return aam_logits(cosine(x), target, opts_);
}

}  // namespace hptrain::models
