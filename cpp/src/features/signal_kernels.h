// librosa zero_crossing_rate and rms of one item on the CPU (private to hp_features; signal.cpp):
// samples in, [1, frames] out, float32.
#pragma once

#include <cstdint>

#include "hptrain/features/framing.h"
#include "hptrain/features/signal.h"
#include "kernels.h"

namespace hptrain::features::detail {

void zcr_item(const ZcrConfig& cfg, const float* y, int64_t n, int64_t frames, Workspace& ws,
              float* out);
void rms_item(const RmsConfig& cfg, PadMode mode, const float* y, int64_t n, int64_t frames,
              Workspace& ws, float* out);

}  // namespace hptrain::features::detail
