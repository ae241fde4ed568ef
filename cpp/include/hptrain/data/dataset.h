// Prepared datasets: HDF5 shards <split>-<i>.h5 read as one random-access dataset, a
// background prefetcher of minibatches, and ensure_prepared() for training. Examples are
// float32: [rows, T] (log_mel, mfcc) or [D] (stats); labels are class indices per task.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hptrain/data/random.h"
#include "hptrain/features/extract.h"
#include "hptrain/tensor.h"

namespace hptrain::data {

// Which array of a shard an example is taken from.
// mfcc = MFCC stacked with its deltas: [3*n_mfcc, T]; waveform = the stored chunk `audio`
// ([features] store_audio): [1, samples].
enum class Input { log_mel, mfcc, stats, waveform };
// "log_mel" | "mfcc" | "stats" | "waveform"; ConfigError otherwise
Input parse_input(const std::string& name);
std::string input_name(Input in);  // the shard dataset's name ("log_mel", ..., "audio")

// The features that input `in` is made of (for features::extract), and the examples of that
// input from extracted features, as the shards hold them: log_mel [B, n_mels, T], mfcc
// [B, 3*n_mfcc, T] (MFCC, delta, delta2 stacked along the rows), stats [B, 1, D]. log_mel and
// stats are moved out of `fs`. input_rows: the examples' rows for a configuration.
features::FeatureSelection input_features(Input in);
Tensor3 input_examples(features::FeatureSet& fs, Input in);
int64_t input_rows(const features::FeatureConfig& cfg, Input in);

struct Batch {
  std::vector<float> x;                                // examples, row-major
  std::vector<int64_t> shape;                          // [B, rows, T] or [B, D]
  std::map<std::string, std::vector<int64_t>> labels;  // task -> [B] class indices
  std::vector<int64_t> indices;                        // dataset index of each example
  std::shared_ptr<void> staged;  // what a Prefetcher's `stage` made of x (or null)
};

// All <split>-*.h5 under a folder, as one random-access dataset (shards in index order). The
// shards stay open; get() is thread-safe (HDF5 reads are serialised by one lock). An input whose
// whole split fits in the cache budget (default 1 GiB per input) is read once, on its first
// get(), and served from memory afterwards; larger ones are read example by example.
class ShardDataset {
 public:
  ShardDataset(const std::filesystem::path& shards_dir, const std::string& split);
  ~ShardDataset();
  ShardDataset(const ShardDataset&) = delete;
  ShardDataset& operator=(const ShardDataset&) = delete;

  int64_t size() const;
  const std::vector<std::string>& tasks() const;
  const std::vector<std::string>& classes(const std::string& task) const;
  // [rows, T] or [D]; InputError for waveform when the shards hold no audio (what to set)
  std::vector<int64_t> example_shape(Input in) const;
  // The sample rate of the stored audio (its attribute), 0 when none is stored.
  int64_t audio_sample_rate() const { return audio_sr_; }
  std::vector<std::string> stats_columns() const;
  const std::vector<int64_t>& labels(const std::string& task) const;  // [size()]
  Batch get(const std::vector<int64_t>& indices, Input in) const;
  // Bytes an input may take in memory (0: always read from the shards).
  void set_cache_budget(int64_t bytes) { cache_budget_ = bytes; }

  // Provenance of each example: source file (as in the manifest) and offset in it (seconds).
  const std::vector<std::string>& sources() const { return sources_; }
  const std::vector<double>& offsets() const { return offsets_; }
  // A file attribute of the first shard (the preprocessing/feature parameters, "split", ...).
  std::string attr_string(const std::string& name) const;
  double attr_double(const std::string& name) const;

 private:
  struct Shard;
  std::string split_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<int64_t> starts_;  // first dataset index of each shard, plus size() at the end
  std::vector<std::string> tasks_;
  std::map<std::string, std::vector<std::string>> classes_;
  std::map<std::string, std::vector<int64_t>> labels_;
  std::vector<std::string> stats_columns_;
  std::vector<std::string> sources_;
  std::vector<double> offsets_;
  std::map<Input, std::vector<int64_t>> shapes_;
  std::filesystem::path dir_;
  int64_t audio_sr_ = 0;
  int64_t cache_budget_ = int64_t{1} << 30;
  mutable std::map<Input, std::vector<float>> cache_;  // whole inputs, filled under mutex_
  mutable std::mutex mutex_;
};

// One epoch of minibatches, read by a background thread into a bounded queue of `depth`
// batches. The order is a permutation of [0, size()) drawn from `seed` when `shuffle` (pass
// e.g. seed + epoch for a new, reproducible order each epoch), else 0, 1, 2, ... The last
// batch may be smaller. `stage`, if given, runs on the reader's thread on every batch before it
// is queued (the trainer copies x into page-locked memory there for a fast copy to the GPU).
// Errors of the reader or of `stage` are rethrown by next().
class Prefetcher {
 public:
  using Stage = std::function<void(Batch&)>;
  Prefetcher(const ShardDataset& ds, Input in, int64_t batch_size, bool shuffle, uint64_t seed,
             int depth = 4, Stage stage = {});
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  bool next(Batch& out);  // false at the end of the epoch
  int64_t batches() const { return n_batches_; }

 private:
  void run();

  const ShardDataset& ds_;
  Input in_;
  int64_t batch_size_;
  size_t depth_;
  Stage stage_;
  std::vector<int64_t> order_;
  int64_t n_batches_ = 0;
  int64_t delivered_ = 0;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

struct DatasetConfig;  // parsed dataset TOML (dataset_config.h); shards_dir() holds the shards
DatasetConfig load_dataset_config(const std::filesystem::path& toml);

class Rendezvous;  // rendezvous.h

// Builds the demo corpus if the dataset asks for it and it is absent, then prepares the shards
// unless they are complete. Returns the folder of the shards. With `ranks`, every rank of a
// job calls it and each prepares its part of the files (run_prepare, prepare.h).
std::filesystem::path ensure_prepared(const std::filesystem::path& dataset_toml,
                                      Rendezvous* ranks = nullptr);

}  // namespace hptrain::data
