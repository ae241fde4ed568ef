// librosa.feature.spectral_contrast of one item on the CPU (private to hp_features;
// contrast.cpp). Magnitude [n_bins, frames] in, [n_bands + 1, frames] out, float32.
#pragma once

#include <cstdint>

#include "hptrain/features/contrast.h"
#include "kernels.h"

namespace hptrain::features::detail {

// Sub-bands of spectral contrast (features::ContrastBands of contrast.h).
ContrastBands contrast_bands(const ContrastConfig& cfg, int sr, int n_fft);
void contrast_item(const ContrastConfig& cfg, const ContrastBands& bands, const float* mag,
                   int64_t frames, Workspace& ws, float* out);
// contrast_item's first step: each band's mean of the q smallest (valley) and q largest (peak)
// magnitudes per frame, [n_bands + 1, frames] each (per frame: a file streamed in windows gets
// the same values). contrast_item then takes power_to_db of both, floored at each one's maximum
// over the item.
void contrast_peak_valley(const ContrastBands& bands, const float* mag, int64_t frames,
                          Workspace& ws, float* peak, float* valley);

}  // namespace hptrain::features::detail
