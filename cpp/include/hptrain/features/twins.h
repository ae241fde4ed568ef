// What a stage header (stft.h, spectral.h, contrast.h, tuning.h, signal.h, stats.h) needs to
// declare its GPU twin beside its CPU twin without a CUDA header: the stream type and the names
// of the GPU resources the twins take (defined in cuda/features.h, built only with HP_CUDA).
#pragma once

struct CUstream_st;  // cudaStream_t is CUstream_st* (cuda_runtime_api.h)

namespace hptrain::cuda {

using CudaStream = ::CUstream_st*;  // cudaStream_t
class Context;                      // cuBLAS handle and cached cuFFT plans
struct DeviceWindow;                // the STFT's window on the device
struct DeviceTables;                // features::FeatureTables on the device
struct ItemMaxima;                  // each item's largest value, found by stft_mel

}  // namespace hptrain::cuda
