// The spectral-contrast stage: librosa.feature.spectral_contrast(S=magnitude),
// [batch, n_bands + 1, frames], float32. Twins: features::spectral_contrast and
// cuda::spectral_contrast, held together by tests/cuda/contrast_cuda_test.cpp (kContrastAtol,
// kContrastRtol).
#pragma once

#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/framing.h"
#include "hptrain/features/twins.h"
#include "hptrain/tensor.h"

namespace hptrain::features {

// Sub-bands of spectral contrast: band b spans bins [first[b], first[b] + count[b]), and its
// valley and peak are the means of its q[b] smallest and largest bins.
struct ContrastBands {
  std::vector<int> first, count, q;
};

// librosa.feature.spectral_contrast(S=magnitude): [batch, n_bands + 1, frames].
void spectral_contrast(const ContrastConfig& cfg, int sr, const Tensor3& magnitude, Tensor3& out);

}  // namespace hptrain::features

namespace hptrain::cuda {

// Whether spectral_contrast's bands (quantile sizes q, one per band) fit its fast kernel, which
// keeps each thread's q smallest and largest bins in registers: at most Bands::kMax bands and
// q <= Bands::kMaxQ. Other configs take a kernel with the same selection in global-memory
// scratch: slower, the same values.
bool contrast_in_registers(const std::vector<int>& q);

// librosa.feature.spectral_contrast(S=magnitude) [batch, n_bands + 1, frames] of a device
// magnitude [batch, 1 + n_fft/2, frames]; bands: features::FeatureTables::bands (any count and
// q). Queued on `stream`, never synchronising.
void spectral_contrast(const features::ContrastConfig& cfg, const features::ContrastBands& bands,
                       const features::FrameBatch& magnitude, float* out, CudaStream stream);

}  // namespace hptrain::cuda
