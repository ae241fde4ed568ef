// Training-time augmentation of a batch [B, rows, frames] on its own device, as whole-batch
// tensor operations: mixing in another example as background and white noise (dB inputs),
// then SpecAugment masks over rows and frames filled with the example's mean.
#pragma once

#include <torch/torch.h>

#include "hptrain/train/experiment.h"

namespace hptrain::train {

// Augments x (any device; x may be replaced by a new tensor). Per-example choices (which
// examples mix or get noise, the partner, gains, SNRs, mask widths and starts) come from
// LibTorch's CPU generator, which checkpoints carry, and reach the device by copies that do not
// wait for it (to_device); the noise values come from the generator of x's device. Only the
// chosen examples are mixed or noised. `db`: x holds dB power values (log-mel), which mixing and
// noise need; otherwise only the masks apply.
void augment(torch::Tensor& x, const AugmentConfig& a, bool db);

}  // namespace hptrain::train
