// Scoped NVTX ranges (NVTX3, header-only) so that a profile reads like the pipeline: one range
// per stage, lowercase names, never in inner loops. HP_NVTX_RANGE("stft");
#pragma once

#include <nvtx3/nvToolsExt.h>

namespace hptrain::cuda {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace hptrain::cuda

#define HP_NVTX_CAT2_(a, b) a##b
#define HP_NVTX_CAT_(a, b) HP_NVTX_CAT2_(a, b)
#define HP_NVTX_RANGE(name) ::hptrain::cuda::NvtxRange HP_NVTX_CAT_(hp_nvtx_, __LINE__)(name)
