// A reader's batch as a tensor on the training device: page-locked staging on the reader's
// thread for CUDA, then one copy queued without waiting.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

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

// The batch inference uses (evaluation, each epoch's validation, evaluate --noise): `asked`,
// and on the CPU at most 1.5 MiB of input. The CPU forward costs the same per example from
// batch 4 to 24, but its buffers grow with the batch, and glibc maps every buffer above 32 MiB
// afresh on each batch (its mmap threshold stops growing there): the demo CNN's first
// convolution output (oneDNN's layout pads its 8 channels to 16: 16x the input) crossed it at
// batch 32 and the page faults of those maps cost a third more CPU time. 1.5 MiB of input keeps
// a buffer 16x the input at 24 MiB; smaller batches would mean more of LibTorch's thread
// barriers per example, which cost much CPU time on a busy machine
// (bench/results/2026-12-07-cpu-robustness-speed.md). example_shape: one example's dimensions.
int64_t inference_batch_size(int64_t asked, const std::vector<int64_t>& example_shape, bool cuda);

}  // namespace hptrain::train::detail
