#include "hptrain/train/augment.h"

#include <algorithm>

#include "hptrain/train/device_queue.h"

namespace hptrain::train {

namespace {

torch::Tensor power(const torch::Tensor& db) {
  return torch::pow(10.0, db / 10.0);
}

// For every example, which positions of an axis of `size` one mask covers: [B, size] bool,
// width floor(u_w (max_width + 1)) (at most max_width), start floor(u_s (size - width + 1)).
torch::Tensor mask_span(const torch::Tensor& u_width, const torch::Tensor& u_start, int64_t size,
                        int64_t max_width) {
  const auto width = torch::clamp_max((u_width * static_cast<double>(max_width + 1)).floor(),
                                      static_cast<double>(max_width));
  const auto start = torch::minimum((u_start * (static_cast<double>(size) - width + 1)).floor(),
                                    static_cast<double>(size) - width);
  const auto pos = torch::arange(size, u_width.options()).unsqueeze(0);
  return (pos >= start.unsqueeze(1)) & (pos < (start + width).unsqueeze(1));
}

}  // namespace

void augment(torch::Tensor& x, const AugmentConfig& a, bool db) {
  if (!a.enabled) return;
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0), R = x.size(1), T = x.size(2);
  const int64_t masks = a.freq_masks + a.time_masks;
  const torch::Device device = x.device();
  // On the CPU (no device synchronisation): columns mix?, partner, gain, noise?, snr, unused,
  // then (width, start) per mask; only the chosen examples are transformed, on x's device. The
  // choices go there by copies that do not wait (to_device).
  const auto u = torch::rand({B, 6 + 2 * masks}, torch::kFloat64);
  const auto on_device = [&](const torch::Tensor& v) { return to_device(v, device); };
  const auto to_x = [&](const torch::Tensor& v) { return on_device(v.to(x.scalar_type())); };
  if (db && a.mix_prob > 0 && B > 1) {
    const auto i = torch::nonzero(u.select(1, 0) < a.mix_prob).flatten();
    if (i.numel() > 0) {
      // a partner j != i: floor(u (B - 1)) (at most B - 2), moved past i; from the batch as it
      // was before any mixing
      auto j = torch::clamp_max((u.select(1, 1).index_select(0, i) * (B - 1.0)).floor(), B - 2.0)
                   .to(torch::kLong);
      j = j + (j >= i).to(torch::kLong);
      const auto gain = a.mix_gain_db[0] +
                        (a.mix_gain_db[1] - a.mix_gain_db[0]) * u.select(1, 2).index_select(0, i);
      const auto id = on_device(i);
      const auto mixed =
          10.0 * torch::log10(power(x.index_select(0, id)) +
                              power(x.index_select(0, on_device(j)) + to_x(gain).view({-1, 1, 1})));
      x.index_copy_(0, id, mixed);
    }
  }
  if (db && a.noise_prob > 0) {
    const auto i = torch::nonzero(u.select(1, 3) < a.noise_prob).flatten();
    if (i.numel() > 0) {
      const auto snr = a.noise_snr_db[0] +
                       (a.noise_snr_db[1] - a.noise_snr_db[0]) * u.select(1, 4).index_select(0, i);
      const auto id = on_device(i);
      const auto p = power(x.index_select(0, id));
      // the level in float64, rounded once (as a float64 scalar times a float32 tensor would be)
      const auto level =
          to_x(p.mean({1, 2}).to(torch::kFloat64) * on_device(torch::pow(10.0, -snr / 10.0)))
              .view({-1, 1, 1});
      x.index_copy_(
          0, id, 10.0 * torch::log10(p + torch::empty_like(p).exponential_(1.0) * level + 1e-10));
    }
  }
  if (masks > 0) {
    auto rows = torch::zeros({B, R}, torch::kBool), frames = torch::zeros({B, T}, torch::kBool);
    for (int64_t m = 0; m < masks; ++m) {
      const bool freq = m < a.freq_masks;
      const int64_t size = freq ? R : T;
      const int64_t max_width =
          std::min<int64_t>(freq ? a.freq_mask_width : a.time_mask_width, size);
      auto& spans = freq ? rows : frames;
      spans = spans | mask_span(u.select(1, 6 + 2 * m), u.select(1, 7 + 2 * m), size, max_width);
    }
    const auto masked = on_device(rows).unsqueeze(2) | on_device(frames).unsqueeze(1);
    x = torch::where(masked, x.mean({1, 2}, true), x);
  }
}

}  // namespace hptrain::train
