// train::augment: each part on its own against what it must do (mixing = the power sum with
// another example at a gain in range, noise = added power at an SNR in range, masks = spans of
// rows or frames set to the example's mean), determinism for a seed, and the CPU twin of CUDA.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "hptrain/train/augment.h"

namespace hptrain::train {
namespace {

AugmentConfig none() {
  AugmentConfig a;
  a.freq_masks = 0;
  a.time_masks = 0;
  a.noise_prob = 0;
  a.mix_prob = 0;
  return a;
}

// augment() on a copy of x0 (which stays as it was).
torch::Tensor augmented(const torch::Tensor& x0, const AugmentConfig& a, bool db) {
  auto x = x0.clone();
  augment(x, a, db);
  return x;
}

// dB-like log-mel batch: values in [-80, 0].
torch::Tensor batch(int64_t B, int64_t R, int64_t T, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::rand({B, R, T}) * 80.0 - 80.0;
}

TEST(Augment, DisabledOrNothingAskedLeavesTheBatch) {
  const auto x0 = batch(4, 8, 20, 1);
  AugmentConfig off;
  off.enabled = false;
  EXPECT_TRUE(torch::equal(augmented(x0, off, true), x0));
  EXPECT_TRUE(torch::equal(augmented(x0, none(), true), x0));
}

// Every example is 10 log10(10^(x_i/10) + 10^((x_j + g)/10)) for one partner j != i and one gain
// g in the range: g is solved at the element where j is loudest against i (the precise one) and
// must explain every element to float32 dB rounding.
TEST(Augment, MixingAddsAnotherExampleAtAGainInRange) {
  const int64_t B = 6, R = 5, T = 30;
  const auto x0 = batch(B, R, T, 2);
  AugmentConfig a = none();
  a.mix_prob = 1.0;
  a.mix_gain_db = {-20.0, -8.0};
  const auto db = augmented(x0, a, true).to(torch::kFloat64), db0 = x0.to(torch::kFloat64);
  const auto p0 = torch::pow(10.0, db0 / 10.0);
  for (int64_t i = 0; i < B; ++i) {
    bool explained = false;
    for (int64_t j = 0; j < B && !explained; ++j) {
      if (j == i) continue;
      const int64_t k = (db0[j] - db0[i]).flatten().argmax().item<int64_t>();
      const double added = std::pow(10.0, db[i].flatten()[k].item<double>() / 10.0) -
                           p0[i].flatten()[k].item<double>();
      const double g = 10.0 * std::log10(added / p0[j].flatten()[k].item<double>());
      if (!(g > a.mix_gain_db[0] - 0.01 && g < a.mix_gain_db[1] + 0.01)) continue;
      const auto want = 10.0 * torch::log10(p0[i] + p0[j] * std::pow(10.0, g / 10.0));
      explained = (want - db[i]).abs().max().item<double>() < 1e-3;
    }
    EXPECT_TRUE(explained) << "example " << i << " is no mix of another one in the gain range";
  }
}

// Added power averages level = mean power x 10^(-snr/10) with snr in the range (the noise is
// exponential with mean level: 2000 values average within a few percent).
TEST(Augment, NoiseAddsPowerAtAnSnrInRange) {
  const int64_t B = 4, R = 40, T = 50;
  const auto x0 = batch(B, R, T, 3);
  AugmentConfig a = none();
  a.noise_prob = 1.0;
  a.noise_snr_db = {10.0, 30.0};
  const auto p = torch::pow(10.0, augmented(x0, a, true).to(torch::kFloat64) / 10.0);
  const auto p0 = torch::pow(10.0, x0.to(torch::kFloat64) / 10.0);
  EXPECT_TRUE(torch::all(p >= p0 * (1 - 1e-5)).item<bool>());
  for (int64_t i = 0; i < B; ++i) {
    const double snr =
        10.0 * std::log10(p0[i].mean().item<double>() / (p[i] - p0[i]).mean().item<double>());
    EXPECT_GT(snr, 10.0 - 0.5) << "example " << i;
    EXPECT_LT(snr, 30.0 + 0.5) << "example " << i;
  }
}

// Masks: each example's changed values lie in at most freq_masks row spans and time_masks frame
// spans of at most the widths, and hold the example's mean; MFCC inputs (db false) get masks only.
TEST(Augment, MasksCoverBoundedSpansWithTheExampleMean) {
  const int64_t B = 8, R = 16, T = 60;
  const auto x0 = batch(B, R, T, 4);
  AugmentConfig a = none();
  a.freq_masks = 1;
  a.freq_mask_width = 4;
  a.time_masks = 1;
  a.time_mask_width = 10;
  a.noise_prob = 1.0;  // ignored: not dB
  const auto x = augmented(x0, a, false);
  for (int64_t i = 0; i < B; ++i) {
    const auto changed = x[i] != x0[i];
    const float mean = x0[i].mean().item<float>();
    EXPECT_TRUE(
        torch::all(torch::where(changed, x[i], torch::full_like(x[i], mean)) == mean).item<bool>())
        << "example " << i << ": masked values are not its mean";
    // a masked row is changed in every frame; a masked frame in every row
    const auto full_rows = changed.all(1).sum().item<int64_t>();
    const auto full_frames = changed.all(0).sum().item<int64_t>();
    EXPECT_LE(full_rows, 4) << "example " << i;
    EXPECT_LE(full_frames, 10) << "example " << i;
    const auto covered = changed.all(1).unsqueeze(1) | changed.all(0).unsqueeze(0);
    EXPECT_TRUE(torch::equal(changed, covered)) << "example " << i << ": a change outside spans";
  }
}

TEST(Augment, SameSeedSameBatch) {
  const auto x0 = batch(8, 16, 40, 5);
  AugmentConfig a;  // everything on
  torch::manual_seed(11);
  const auto x = augmented(x0, a, true);
  torch::manual_seed(11);
  const auto y = augmented(x0, a, true);
  EXPECT_TRUE(torch::equal(x, y));
  EXPECT_FALSE(torch::equal(x, x0));
}

// On CUDA the per-example choices come from the same CPU generator, so without noise (whose
// values come from the device's generator) the GPU's batch is the CPU's to float32 rounding.
TEST(Augment, CudaMatchesCpuWithoutNoise) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch without CUDA or no device";
  const auto x0 = batch(8, 16, 40, 6);
  AugmentConfig a;
  a.noise_prob = 0;
  torch::manual_seed(12);
  const auto cpu = augmented(x0, a, true);
  torch::manual_seed(12);
  const auto gpu = augmented(x0.to(torch::kCUDA), a, true);
  EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, 1e-5, 1e-4));
}

}  // namespace
}  // namespace hptrain::train
