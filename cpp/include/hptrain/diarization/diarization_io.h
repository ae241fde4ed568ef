// The diarization's files: a run's calibrated clustering settings (TOML) in; per recording an
// RTTM, a segments CSV and a timeline PNG out.
#pragma once

#include <filesystem>

#include "hptrain/diarization/diarize.h"

namespace hptrain::diarization {

// The clustering settings calibrated for one embedder, kept beside it: a TOML file whose keys
// are `threshold` (ahc's stopping similarity), `whiten` and `whiten_weight` (the run's
// within-speaker whitening), `standardise` (z-score per recording before the cosine), `clustering`
// ("ahc" | "spectral"), `piece_s` and `link_threshold` (the two-stage clustering of long
// recordings), each optional. `hptrain diarize --run RUN` reads `RUN/diarization.toml` when
// present; options given on the command line win. ConfigError naming file, line and key for an
// unknown key or a wrong type.
void read_diarize_settings(const std::filesystem::path& file, DiarizeConfig& cfg);

// <out>/<uri>.rttm, <out>/<uri>.segments.csv (uri,speaker,start,end,duration) and
// <out>/<uri>.png (one lane per speaker; a warning and no PNG without gnuplot).
void write_diarization(const std::filesystem::path& out, const DiarizeResult& r);

}  // namespace hptrain::diarization
