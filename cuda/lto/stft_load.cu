// The STFT's cuFFT load callbacks, compiled to LTO-IR (not into hp_cuda) and linked into cuFFT's
// own kernels when a plan is made (cufftXtSetJITCallback): each frame value is read straight
// from the audio (framing, padding and window: FrameSource), so no frames go through global
// memory. cuFFT finds them by these names at global scope, with exactly its callback signatures.
#include <cufftXt.h>

#include "../src/stft_frames.h"

using hptrain::cuda::detail::StftCallbackInfo;

__device__ cufftReal hp_stft_load_r(void*, unsigned long long offset, void* info, void*) {
  return static_cast<cufftReal>(static_cast<const StftCallbackInfo*>(info)->frames.at(offset));
}

__device__ cufftDoubleReal hp_stft_load_d(void*, unsigned long long offset, void* info, void*) {
  return static_cast<const StftCallbackInfo*>(info)->frames.at(offset);
}
