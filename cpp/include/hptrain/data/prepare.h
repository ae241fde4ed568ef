// `hptrain prepare`: manifest -> splits -> decode + preprocess -> features -> HDF5 shards, with
// resume (complete shards kept) and a summary; the demo corpus is built first when asked for.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hptrain/data/dataset_config.h"
#include "hptrain/data/manifest.h"

namespace hptrain::data {

class Rendezvous;  // rendezvous.h

struct PrepareOptions {
  std::filesystem::path dataset;  // the dataset TOML
  bool force = false;             // delete the shards (and a demo corpus) and start again
  bool skip_bad_rows =
      false;               // leave bad rows/files out (listed in skipped.csv) instead of failing
  bool demo_only = false;  // build the demo corpus (when the dataset has [demo]) and stop
  // another process preparing the same output: wait for it (training) instead of stopping
  bool wait = false;
};

struct SplitSummary {
  int64_t shards = 0;
  int64_t chunks = 0;
  int64_t dropped = 0;  // chunks without a label covering min_coverage
  std::map<std::string, std::vector<int64_t>> class_counts;  // task -> chunks per class
};

struct PrepareSummary {
  std::filesystem::path shards_dir;
  std::string fingerprint;
  bool up_to_date = false;     // nothing was written: the shards were complete
  bool skip_bad_rows = false;  // bad rows were left out: --skip-bad-rows, or as recorded
  bool demo_built = false;
  int64_t shards_kept = 0;  // complete shards of an earlier run that were kept (resume)
  int64_t shards_written = 0;
  std::vector<Task> tasks;
  std::map<std::string, SplitSummary> splits;
  std::vector<BadRow> skipped;  // bad rows and files that failed to decode
  std::string where;            // the manifest (or audio root), for messages
  std::vector<std::string> warnings;
  double seconds = 0;
};

// Prepares `cfg`'s shards (see README, "Datasets", "Resume"). Throws InputError listing the
// bad rows unless opts.skip_bad_rows, or the output's prepared.json records that it was prepared
// with it (and not opts.force): training, which prepares without options, keeps the choice.
// The caller holds the output's lock (run_prepare does).
// With `ranks` (a distributed job, README "Scaling out"), every rank calls it alike: each
// prepares a contiguous part of every split's files into shards of its own names
// (`<split>-part<r>of<N>-<i>.h5`, resumed per rank), and rank 0, once all are done, renames them
// `<split>-<i>.h5` in rank order and writes prepared.json: the same examples in the same order as
// one process. An error on any rank is an error on every rank, naming it.
PrepareSummary prepare(const DatasetConfig& cfg, const PrepareOptions& opts,
                       Rendezvous* ranks = nullptr);
// Loads opts.dataset, builds the demo corpus when the dataset has [demo] and its manifest or a
// scene it lists is missing (or opts.force), then prepare() unless opts.demo_only; all under
// the dataset output's fs::Lock (a second process stops at once, naming the first). With
// `ranks`, rank 0 holds the lock and builds the demo corpus while the others wait.
PrepareSummary run_prepare(const PrepareOptions& opts, Rendezvous* ranks = nullptr);
// Human-readable summary: chunks per split and class, skipped rows with reasons.
std::string format_summary(const PrepareSummary& s);

// Fingerprint of everything that decides the shards' content: the resolved preprocessing and
// feature parameters, tasks, split policy, shard size, min_coverage, the manifest rows, and
// each audio file's size and modification time.
std::string fingerprint(const DatasetConfig& cfg, const Manifest& m);

}  // namespace hptrain::data
