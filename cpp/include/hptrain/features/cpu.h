// Every feature stage's CPU twin (and GPU twin's declaration), for callers that use several:
// one header per stage (stft.h, spectral.h, contrast.h, tuning.h, signal.h, stats.h).
#pragma once

#include "hptrain/features/contrast.h"
#include "hptrain/features/signal.h"
#include "hptrain/features/spectral.h"
#include "hptrain/features/stats.h"
#include "hptrain/features/stft.h"
#include "hptrain/features/tuning.h"
