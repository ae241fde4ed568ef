// `hptrain features`: every feature of one whole audio file, written to HDF5 with the dataset
// names and attributes of librosa's reference files (tests/data/reference/README.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"

namespace hptrain::features {

struct FeaturesOptions {
  std::filesystem::path input;    // audio or video file
  std::filesystem::path out;      // HDF5 file, written atomically
  std::string preset = "speech";  // speech | librosa-default
  std::filesystem::path config;   // optional TOML: its [features] table (from_toml) on the preset
  bool preprocess = false;        // trim and normalise first (preprocess::process_whole)
  int threads = 0;                // 0: all cores
};

// Decodes `path` as mono float32 at `sr` (downmix, resample; trimmed and normalised when
// `preprocess`). hp_features does not link the io and preprocess areas: the CLI passes
// io::load_mono / preprocess::process_whole, tests pass their own.
using AudioLoader =
    std::function<std::vector<float>(const std::string& path, int sr, bool preprocess)>;

struct FeaturesSummary {
  FeatureConfig config;  // as resolved from preset, TOML and options
  int64_t n_samples = 0;
  int64_t n_frames = 0;
  bool deltas = true;  // false when the file has fewer frames than delta.width
  double tuning = 0;   // chroma tuning used (estimated unless given)
};

// The resolved configuration of `opts` (preset, then the TOML's [features] table).
FeatureConfig resolve_config(const FeaturesOptions& opts);

// Loads the file, extracts every feature, writes `opts.out`. A file with fewer frames than
// delta.width gets no mfcc_delta, mfcc_delta2 or stats (as librosa raises there), and a
// `delta_error` attribute saying why.
FeaturesSummary run_features(const FeaturesOptions& opts, const AudioLoader& load);

// Writes item 0 of `fs`: one float32 dataset [rows, frames] per non-empty feature (stft_mag,
// melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft, spectral_contrast, zcr,
// rms), `stats` [D] with a `columns` attribute, and every parameter of `cfg` plus n_samples,
// n_frames and tuning_chroma_stft as file attributes. Atomic (temporary name, then rename).
void write_features_h5(const std::filesystem::path& path, const FeatureConfig& cfg,
                       const FeatureSet& fs, int64_t n_samples);

}  // namespace hptrain::features
