// `hptrain features`: every feature of one whole audio file, written to HDF5 with the dataset
// names and attributes of librosa's reference files (tests/data/reference/README.md). Long
// files are streamed in windows of frames: memory is bounded whatever the length, and every
// value is the one the whole-file computation (features::extract) gives, bit for bit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"
#include "hptrain/h5.h"

namespace hptrain::features {

struct FeaturesOptions {
  std::filesystem::path input;    // audio or video file
  std::filesystem::path out;      // HDF5 file, written atomically
  std::string preset = "speech";  // speech | librosa-default
  std::filesystem::path config;   // optional TOML: its [features] table (from_toml) on the preset
  bool preprocess = false;        // trim and normalise first (preprocess::process_whole)
  int threads = 0;                // 0: all cores
  std::string fft_precision;      // non-empty: overrides [features] fft_precision (GPU only)
  // Storage of the feature datasets: "none" | "gzip[:LEVEL]" | "lzf" (h5::Compression).
  std::string compression = "none";
  // STFT frames per window of the stream (rounded up to a multiple of 64): 32768 frames are
  // 5.5 min at the speech preset's hop; peak memory about 400 MB (speech preset, whatever the
  // file's length; bench/results/2026-12-06-cpu-storage.md).
  int64_t window_frames = 32768;
};

// Mono float32 samples at the feature rate, read in order; 0 at the end.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual size_t read(float* out, size_t max_samples) = 0;
};
// Opens the file as a stream from its start (called once per pass: twice when chroma's tuning
// is estimated, which needs the whole file before the first chroma frame).
using AudioOpener =
    std::function<std::unique_ptr<SampleSource>(const std::string& path, int sr, bool preprocess)>;

// Decodes `path` as mono float32 at `sr` (downmix, resample; trimmed and normalised when
// `preprocess`). hp_features does not link the io and preprocess areas: the CLI passes
// io::load_mono / preprocess::process_whole, tests pass their own.
using AudioLoader =
    std::function<std::vector<float>(const std::string& path, int sr, bool preprocess)>;

// An AudioOpener over a loader: decodes once, then streams from memory.
AudioOpener memory_opener(const AudioLoader& load);

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
// The stream in windows of `window_frames` STFT frames (with the margins each feature's context
// needs), then the whole-file steps from the data written: log_mel's top_db floor at the file's
// maximum, MFCC and deltas from it, contrast's dB floors, and the pooled stats.
FeaturesSummary run_features(const FeaturesOptions& opts, const AudioOpener& open);
FeaturesSummary run_features(const FeaturesOptions& opts, const AudioLoader& load);

// Writes item 0 of `fs`: one float32 dataset [rows, frames] per non-empty feature (stft_mag,
// melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2, chroma_stft, spectral_contrast, zcr,
// rms), `stats` [D] with a `columns` attribute, and every parameter of `cfg` plus n_samples,
// n_frames and tuning_chroma_stft as file attributes. Atomic (temporary name, then rename).
void write_features_h5(const std::filesystem::path& path, const FeatureConfig& cfg,
                       const FeatureSet& fs, int64_t n_samples,
                       const h5::Compression& compression = {});

}  // namespace hptrain::features
