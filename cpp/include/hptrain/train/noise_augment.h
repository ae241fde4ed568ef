// [train.augment.noise]: the training split with noisy copies of its chunks added, built from the
// waveforms with data/noise.h's mixing (the code evaluate --noise uses) before training starts.
#pragma once

#include <filesystem>

#include "hptrain/train/experiment.h"

namespace hptrain::train {

// `shards` when cfg.train.augment.noise is off. Else <run>/noisy-shards/: the prepared shards
// (linked, untouched: validation and test stay clean) plus train shards holding, for each
// training chunk chosen with noise.probability (seeded by the experiment's seed and the chunk),
// its copy with a kind drawn from noise.kinds mixed in at an SNR drawn uniformly from
// noise.snr_db, labels unchanged. Each training source is decoded once. Only data.input is
// extracted for the copies (the other inputs of those rows are zeros). Reused while the
// prepared shards and the noise settings are the same (noise.json records them).
std::filesystem::path noisy_training_shards(const ExperimentConfig& cfg,
                                            const std::filesystem::path& shards);

// Whether noisy_training_shards would return without writing: the noise is off, or
// <output_dir>/noisy-shards holds the copies for these settings and these shards.
bool noisy_training_shards_current(const ExperimentConfig& cfg,
                                   const std::filesystem::path& shards);

}  // namespace hptrain::train
