// The stages on the waveform: librosa.feature.zero_crossing_rate(y) and librosa.feature.rms(y=y),
// [batch, 1, frames] of their own framing, float32. Twins in `features` (CPU) and `cuda` (GPU),
// held together by tests/cuda/signal_cuda_test.cpp (kZcrAtol, kRmsAtol and their rtol).
#pragma once

#include <cstdint>

#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// librosa.feature.zero_crossing_rate(y): [batch, 1, frames].
void zero_crossing_rate(const ZcrConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                        Tensor3& out);

// librosa.feature.rms(y=y): [batch, 1, frames].
void rms(const RmsConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out);

}  // namespace hptrain::features

namespace hptrain::cuda {

// The same of the device clips `audio` (items of their own lengths); queued on `stream`.
void zero_crossing_rate(const features::ZcrConfig& cfg, const features::Signal& audio, float* out,
                        CudaStream stream);
void rms(const features::RmsConfig& cfg, const features::Signal& audio, float* out,
         CudaStream stream);

}  // namespace hptrain::cuda
