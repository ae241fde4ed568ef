// Preprocessing of one audio/video file into clean mono chunks: librosa.effects.trim-style
// silence trimming, EBU R128 loudness (or peak) normalisation under a true-peak ceiling, chunking.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/toml_config.h"

namespace hptrain::preprocess {

// The output rates preprocessing accepts: libebur128's (loudness and true peak) range.
inline constexpr int kMinSr = 16;
inline constexpr int kMaxSr = 2822400;
// The longest chunk: 2^31 - 1 samples (a chunk is one array in memory, and counts are int).
inline constexpr double kMaxChunkSamples = 2147483647.0;

struct PreprocessConfig {
  int sr = 16000;           // output sample rate (Hz)
  int stream = -1;          // container stream index (ffprobe's 0:N); -1 = first audio stream
  bool trim = true;         // trim leading/trailing silence (librosa.effects.trim)
  double top_db = 60;       // trim: frames more than top_db below the loudest frame are silent
  int frame_length = 2048;  // trim: RMS frame length (samples at sr)
  int hop_length = 512;     // trim: RMS hop (samples at sr)
  std::string normalize = "loudness";  // loudness | peak | none
  double target_lufs = -23;            // loudness: integrated loudness target (LUFS, EBU R128)
  double peak_db = -1;                 // peak: sample peak target (dBFS)
  double true_peak_db = -1;  // loudness|peak: the gain never takes the true peak above this (dBTP)
  double chunk_s = 3;        // chunk length (s)
  double chunk_hop_s = 3;    // distance between chunk starts (s)
  std::string last_chunk = "pad";  // pad | drop: the partial chunk after the last full one
  double min_last_fraction = 0.5;  // pad: keep it when at least this fraction of chunk_s
  // Throws ConfigError naming the field and the reason.
  void validate() const;
};

// Reads keys equal to the field names, then validates (errors name FILE:LINE and key).
void from_toml(const config::Section& s, PreprocessConfig& cfg);

// One line per field, "name = value", for logs.
std::string to_string(const PreprocessConfig& cfg);

struct Chunk {
  std::string source;
  int64_t index = 0;
  double offset_s = 0;         // in the source file's time
  double duration_s = 0;       // audio before padding
  std::vector<float> samples;  // chunk_s*sr
};

struct FileReport {
  std::string source;
  double duration_s = 0;    // the whole decoded file
  double trim_start_s = 0;  // kept interval [trim_start_s, trim_end_s)
  double trim_end_s = 0;
  double input_lufs = 0;  // integrated loudness of the kept audio before gain (NaN: not measured)
  bool ungated = false;   // input_lufs is ungated_loudness(): the kept audio is < 0.4 s
  double gain_db = 0;     // gain applied
  int64_t chunks = 0;
};

// EBU R128 measures integrated loudness over 400 ms gating blocks, so a clip shorter than one
// block has none. Its stand-in: the ungated loudness of the whole clip, -0.691 + 10 log10 of the
// mean square of the K-weighted signal (ITU-R BS.1770's K-weighting, with libebur128's filter
// design at `sr`; the filter starts from rest). For a stationary signal of 0.4 s or more it
// equals R128's integrated loudness. LUFS; -inf for silence.
double ungated_loudness(const float* x, size_t n, int sr);

// Clips shorter than EBU R128's 400 ms gating block, normalised by ungated_loudness() when
// normalize = "loudness" (FileReport::ungated); a batch counts them and warns once at the end.
inline constexpr double kGatingBlock_s = 0.4;

// Streams the file (analysis, then output); memory bounded by a chunk, whatever the length.
// on_analysed, if given, hears the seconds of audio decoded so far by the analysis pass (trim
// and loudness: a long film's first minute of work, before its first chunk), block by block.
FileReport process_file(const std::string& path, const PreprocessConfig& cfg,
                        const std::function<void(Chunk&&)>& on_chunk,
                        const std::function<void(double)>& on_analysed = {});
// The kept interval, normalised as configured, in blocks of at most 65536 samples, in order,
// without chunking (the chunk settings are not read): on_block(x, n, first) with `first` the
// index of x[0] in the decoded file (samples at cfg.sr). Memory as process_file. chunks = 0.
FileReport process_stream(const std::string& path, const PreprocessConfig& cfg,
                          const std::function<void(const float*, size_t, int64_t)>& on_block,
                          const std::function<void(double)>& on_analysed = {});
// The whole file, trimmed and normalised as configured but not chunked (for short inputs and
// `hptrain features --preprocess`).
std::vector<float> process_whole(const std::string& path, const PreprocessConfig& cfg,
                                 FileReport* report = nullptr);

// Batch conversion of a file or a folder (recursed) into chunk WAVs plus OUT/chunks.csv.
struct PreprocessOptions {
  std::filesystem::path input;  // a file, or a folder searched recursively for media files
  std::filesystem::path out;    // chunk WAVs and chunks.csv go here
  PreprocessConfig config;
};

struct SkippedFile {
  std::string source;
  std::string reason;
};

struct PreprocessSummary {
  int64_t files = 0;      // media files found
  int64_t converted = 0;  // files that gave at least one chunk
  int64_t chunks = 0;
  int64_t ungated = 0;               // files whose loudness was ungated_loudness() (< 0.4 s)
  std::vector<SkippedFile> skipped;  // errors and files too short for a chunk
};

// Converts every file, continuing past bad ones (reported in `skipped`). chunks.csv is written
// (atomically) only when at least one file was converted. Throws InputError when the input
// does not exist or holds no media file.
PreprocessSummary run_preprocess(const PreprocessOptions& opts);

}  // namespace hptrain::preprocess
