// Feature outputs as torch::Tensor for the models, [batch, rows, frames] float32: host Tensor3s
// taken over without a copy; the GPU extractor's device outputs without a copy when LibTorch has
// CUDA (HP_TORCH_CUDA), else copied to the host once.
#pragma once

#include <torch/torch.h>

#include "hptrain/features/extract.h"
#include "hptrain/tensor.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/extract.h"
#endif

namespace hptrain::models {

// The outputs of features::FeatureSet as tensors; undefined where not selected.
struct FeatureTensors {
  torch::Tensor stft_mag, melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft,
      spectral_contrast, zcr, rms;
  torch::Tensor stats;   // [batch, 1, D]
  torch::Tensor tuning;  // [batch], float64: chroma tuning per item
};

// A CPU tensor [batch, rows, frames] owning t's values (no copy); t is left empty. An empty t
// (batch 0, not selected) gives an undefined tensor.
torch::Tensor to_tensor(Tensor3&& t);

// Every output of fs as CPU tensors, each taking over its values (no copy); fs is left empty.
FeatureTensors to_tensors(features::FeatureSet&& fs);

#ifdef HP_WITH_CUDA
// The outputs of cuda::FeatureExtractor::run, queued on `stream` (the extractor's), as tensors;
// d is left empty. With HP_TORCH_CUDA: CUDA tensors over the same device memory (no copy);
// LibTorch's current stream waits for `stream` (an event, no host synchronisation), and each
// buffer goes back to the pool in that torch stream's order when its tensor is released (a
// consumer on another torch stream orders itself, as with record_stream). Without it: one copy
// per output to CPU tensors, then one synchronisation of `stream`.
FeatureTensors to_tensors(cuda::DeviceFeatures&& d, cudaStream_t stream);
#endif

}  // namespace hptrain::models
