// prepared.json, the record prepare() writes last (README, "Resume"): written from a summary,
// checked against the shards it lists, and read back into a summary when nothing is to be done.
#pragma once

#include <string>

#include "hptrain/data/dataset_config.h"
#include "hptrain/data/manifest.h"
#include "hptrain/data/prepare.h"

namespace hptrain::data::detail {

// Writes `sum` as cfg.output's prepared.json (fingerprint, shards, chunks and classes per split,
// the bad rows left out and whether --skip-bad-rows chose that).
void write_prepared(const DatasetConfig& cfg, const PrepareSummary& sum);
// Whether prepared.json records --skip-bad-rows (false when there is none, or it does not say).
bool prepared_skip_bad_rows(const DatasetConfig& cfg);
// True when prepared.json has `fp` and every shard it lists is present with that fingerprint.
bool prepared_complete(const DatasetConfig& cfg, const std::string& fp);
// Fills `sum` from a complete output's prepared.json (its counts and skipped rows; up_to_date,
// shards_kept).
void read_prepared(const DatasetConfig& cfg, const Manifest& m, PrepareSummary& sum);

}  // namespace hptrain::data::detail
