// What the feature stages' launchers share (private to hp_cuda): plain arguments, device
// pointers, one stream, cudaGetLastError checked after each launch; layout [batch, rows, frames],
// float32. Each stage's own launchers are declared in its .cu; the STFT's, used by three files,
// in stft_launch.h.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "hptrain/cuda/framing.h"

namespace hptrain::cuda::detail {

// Dynamic shared memory a block of the mel product (stft.cu's mel_from_fft) or of the MFCC
// tiles (spectral.cu's mfcc_from_mel) may take: the default limit.
constexpr size_t kMelSharedBytes = 48 * 1024;

// out = a - b elementwise over n values.
void subtract(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);

}  // namespace hptrain::cuda::detail
