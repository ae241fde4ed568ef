// The STFT's cuFFT load callbacks, compiled to LTO-IR (not into hp_cuda) and linked into cuFFT's
// own kernels when a plan is made (cufftXtSetJITCallback): each frame value is read straight
// from the audio (framing, padding and window: FrameSource), so no frames go through global
// memory. cuFFT finds them by these names at global scope, with exactly its callback signatures.
#include <cufftXt.h>

#include "../src/stft_frames.h"

using hptrain::cuda::detail::StftCallbackInfo;

namespace {

// The frame arguments copied whole before any branch: cuFFT inlines several loads in a row, and
// the compiler then keeps most fields in registers across them instead of reloading each field
// in each load's branches (PTX of 8 inlined calls, as cuFFT's EPT<8> kernel makes them: 38
// loads, 14 of them the fields, against 116 when each call read its fields in its branches).
template <class R>
__device__ R frame_value(const void* info, unsigned long long offset) {
  const hptrain::cuda::FrameSource frames = static_cast<const StftCallbackInfo*>(info)->frames;
  return frames.at<R>(offset);
}

}  // namespace

__device__ cufftReal hp_stft_load_r(void*, unsigned long long offset, void* info, void*) {
  return frame_value<cufftReal>(info, offset);
}

__device__ cufftDoubleReal hp_stft_load_d(void*, unsigned long long offset, void* info, void*) {
  return frame_value<cufftDoubleReal>(info, offset);
}
