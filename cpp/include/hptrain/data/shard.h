// HDF5 shards <split>-<index>.h5: N chunks with log_mel [N, n_mels, T], mfcc [N, 3*n_mfcc, T],
// stats [N, D], labels/<task> [N], source, offset (s), and with [features] store_audio the
// waveforms audio [N, samples] (float32, attribute sample_rate); see README, "Datasets".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/h5.h"
#include "hptrain/tensor.h"

namespace hptrain::data {

// What a shard says about itself (file attributes).
struct ShardInfo {
  std::string split;        // train | validation | test
  int64_t index = 0;        // <index> of the file name
  std::string fingerprint;  // of the configuration, manifest and audio files that made it
  std::vector<std::string> tasks;
  std::map<std::string, std::vector<std::string>> classes;  // task -> class names
  // Where the chunk stream of the split stands after this shard: the split's file index and
  // the preprocess::Chunk::index of its last chunk (resuming starts right after it).
  int64_t resume_file = 0;
  int64_t resume_chunk = -1;
};

struct ShardContents {
  Tensor3 log_mel;  // [N, n_mels, T]
  Tensor3 mfcc;     // [N, 3*n_mfcc, T]: MFCC, delta, delta2
  Tensor3 stats;    // [N, 1, D]
  Tensor3 audio;    // [N, 1, samples]: the preprocessed chunks (store_audio), or batch 0: none
  std::vector<std::string> stats_columns;              // D names
  std::map<std::string, std::vector<int64_t>> labels;  // task -> [N]
  std::vector<std::string> source;                     // [N] file, as in the manifest
  std::vector<double> offset;                          // [N] seconds in the source
  int64_t size() const { return static_cast<int64_t>(source.size()); }
};

// The completion marker of a shard folder, written last by prepare(): the fingerprint and, per
// split, the number of shards and chunks (README, "Datasets"). Readers require it.
inline constexpr const char* kPreparedFile = "prepared.json";

// "<split>-<index>.h5"
std::string shard_name(const std::string& split, int64_t index);
// The complete shards of `split` under `dir`, by index (temporary files are never listed).
std::vector<std::pair<int64_t, std::filesystem::path>> list_shards(const std::filesystem::path& dir,
                                                                   const std::string& split);

// Writes a shard atomically (temporary name, then rename): chunked one example per HDF5
// chunk, compressed with `compression` (the dataset file's `compression` key). `attrs` adds the
// configuration attributes.
void write_shard(const std::filesystem::path& path, const ShardContents& c, const ShardInfo& info,
                 const std::function<void(h5::File&)>& attrs,
                 const h5::Compression& compression = h5::Compression::lzf());
ShardInfo read_shard_info(const h5::File& f);
ShardContents read_shard(const h5::File& f);

}  // namespace hptrain::data
