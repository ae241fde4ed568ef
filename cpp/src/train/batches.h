// A reader's batch as a tensor on the training device: page-locked staging on the reader's
// thread for CUDA, then one copy queued without waiting.
#pragma once

#include <torch/torch.h>

#include "hptrain/data/dataset.h"

namespace hptrain::train::detail {

// The reader's stage for batches bound for `device`: on CUDA a page-locked copy of the values,
// made on the reader's thread, so that the copy to the device (which the loop waits for) runs
// at the bus's speed instead of through the driver's pageable staging. Nothing on the CPU.
data::Prefetcher::Stage stage_for(torch::Device device);

// The batch's values as a tensor of its own (the reader reuses b.x) with `options` (device,
// dtype): one copy, from the staged page-locked values where there are some, then queued
// without waiting for it (the staged block is not reused before the copy is done).
torch::Tensor batch_tensor(data::Batch& b, const torch::TensorOptions& options);

}  // namespace hptrain::train::detail
