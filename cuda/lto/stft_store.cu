// The STFT's cuFFT store callbacks (LTO-IR, as stft_load.cu): each bin leaves cuFFT's kernel as
// |X|^2 in float32, frame-major, so the complex spectrum never goes through global memory.
#include <cufftXt.h>

#include "../src/stft_frames.h"

using hptrain::cuda::detail::power_of;
using hptrain::cuda::detail::StftCallbackInfo;

__device__ void hp_stft_store_c(void*, unsigned long long offset, cufftComplex x, void* info,
                                void*) {
  static_cast<const StftCallbackInfo*>(info)->power[offset] = power_of(x);
}

__device__ void hp_stft_store_z(void*, unsigned long long offset, cufftDoubleComplex x, void* info,
                                void*) {
  static_cast<const StftCallbackInfo*>(info)->power[offset] = power_of(x);
}
