// The dataset TOML (README, "Datasets"): audio, manifest, tasks and classes, preprocessing and
// feature settings, split policy, shard size, output folder, and the optional demo corpus.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/data/dataset.h"
#include "hptrain/features/config_io.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/toml_config.h"

namespace hptrain::data {

// The three splits, in this order everywhere (files, summaries, fractions).
inline const std::vector<std::string>& split_names() {
  static const std::vector<std::string> kNames = {"train", "validation", "test"};
  return kNames;
}

struct Task {
  std::string name;  // manifest column
  std::vector<std::string>
      classes;  // label i is classes[i]; empty in the TOML: sorted labels found
  // [background]: the class that means "none of this task" (`none` speaker, `no` music); it
  // yields to any other class covering min_foreground of a chunk. Empty: no such class.
  std::string background;
};

// [split]: fractions of the total duration per split, by group.
struct SplitPolicy {
  double train = 0.7;
  double validation = 0.15;
  double test = 0.15;
  uint64_t seed = 1234;
  std::string group = "group";  // manifest column naming the group; rows without one: their file
  std::string stratify;         // task balanced across splits; empty: the first task
  std::vector<double> fractions() const { return {train, validation, test}; }
  void validate() const;
};

// [demo]: build the demo corpus (datasets/demo/README.md) into audio_root when its manifest is
// absent.
struct DemoConfig {
  double minutes = 120;  // total audio over all splits
  uint64_t seed = 7;
  int sr = 16000;  // of the scene WAVs
  std::filesystem::path voices = "/usr/share/games/hedgewars/Data/Sounds/voices";
  std::filesystem::path wesnoth = "/usr/share/games/wesnoth/1.16/data/core";
  void validate() const;
};

struct DatasetConfig {
  std::filesystem::path
      file;          // the TOML it came from (a relative path, from the folder of the file that
                     // gives it: this one, or its `base` for the keys it takes from there)
  std::string name;  // for logs and reports
  std::filesystem::path audio_root;  // manifest paths are relative to it
  std::filesystem::path manifest;    // CSV; empty: folder-per-class layout under audio_root
  std::filesystem::path output;      // shards, split.csv, skipped.csv, prepared.json
  std::vector<Task> tasks;           // in the TOML's order of keys (sorted by name)
  preprocess::PreprocessConfig preprocess;
  features::FeatureConfig features;  // features.sr is preprocess.sr
  // [features] store_audio: the shards also hold each chunk's waveform, `audio` [N, samples]
  // float32 at preprocess.sr (data.input = "waveform", for model.type = "pretrained")
  bool store_audio = false;
  SplitPolicy split;
  int64_t shard_size = 256;         // chunks per shard
  int64_t feature_batch = 64;       // chunks per features::extract call
  std::string compression = "lzf";  // of the shards: none | gzip[:LEVEL] | lzf (h5::Compression)
  double min_coverage = 0.5;        // a chunk takes a segment's label when it covers this fraction
  double min_foreground = 0.2;      // ... or, over a task's background class, this fraction
  std::optional<DemoConfig> demo;
  // Manifest paths may name files outside audio_root (absolute, or leaving it with ..); off:
  // such a row is a bad row (manifests are shared, and a path must not reach anywhere)
  bool allow_outside_root = false;

  std::filesystem::path shards_dir() const { return output; }
  int task_index(const std::string& task) const;  // -1 when absent
  void validate() const;
};

// Reads a dataset TOML already parsed (`file` names it in errors and anchors relative paths);
// rejects unknown keys.
DatasetConfig dataset_config_from_toml(const toml::table& root, const std::filesystem::path& file);

// The resolved configuration as text (for logs, and hashed into the shards' fingerprint).
std::string to_string(const DatasetConfig& cfg);

}  // namespace hptrain::data
