// Accumulates prepare's labelled chunks into HDF5 shards: audio in batches of feature_batch
// through features::extract, a shard written whenever shard_size chunks are in (shard.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/data/dataset_config.h"
#include "hptrain/data/manifest.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/shard.h"
#include "hptrain/features/extract.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::data::detail {

class ShardBuilder {
 public:
  // The file name of the shard with index i (shard_name, or a rank's own name).
  using Namer = std::function<std::string(int64_t index)>;

  // Shards get indices next_index, next_index + 1, ... named by `name` under cfg.output;
  // `extra_attrs` (may be empty) adds attributes to each; `summary` counts what is written.
  ShardBuilder(const DatasetConfig& cfg, const std::vector<Task>& tasks, std::string split,
               std::string fingerprint, int64_t next_index, SplitSummary& summary, Namer name,
               std::function<void(h5::File&)> extra_attrs = {});

  // Sets the manifest path recorded as the source of the chunks that follow.
  void set_path(const std::string& p) { current_path_ = p; }
  // One chunk with its label per task; `file_index` is its file's index in the split (resume).
  void add(preprocess::Chunk&& c, const std::vector<int>& labels, int64_t file_index);
  // Writes the last, partial shard.
  void finish();
  int64_t written() const { return written_; }

 private:
  void reset_shard();
  void extract();
  void write();

  const DatasetConfig& cfg_;
  const std::vector<Task>& tasks_;
  std::string split_;
  std::string fingerprint_;
  int64_t index_;
  SplitSummary& summary_;
  Namer name_;
  std::function<void(h5::File&)> extra_attrs_;
  std::vector<std::string> columns_;
  features::FeatureSelection what_;
  ShardContents shard_;
  std::vector<float> audio_;
  int64_t pending_ = 0;
  int64_t n_samples_ = 0;
  std::string current_path_;
  int64_t last_file_ = 0;
  int64_t last_chunk_ = -1;
  int64_t written_ = 0;
};

}  // namespace hptrain::data::detail
