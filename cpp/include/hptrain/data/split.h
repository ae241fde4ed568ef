// Train/validation/test splits by group: deterministic for a seed, stratified on one task, a
// group never in two splits; rows with a fixed `split` keep it. Recorded as split.csv.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hptrain/data/manifest.h"

namespace hptrain::data {

struct SplitResult {
  std::map<std::string, std::string> group_split;  // group -> train | validation | test
  std::vector<std::string> segment_split;          // per Manifest::segments entry
  std::vector<std::string> warnings;               // e.g. a class absent from a split
};

// Weight of a group = its annotated duration (rows without an end count as the mean duration
// of the rows with one, or 1 s). Groups are bucketed by the stratify task's majority class;
// each bucket's groups, shuffled by the seed, go one by one to the split furthest below its
// target share, counting both the bucket's and the overall shares.
SplitResult assign_splits(const Manifest& m, const SplitPolicy& policy);

// group,split,duration_s,<stratify task>,segments: one line per group, atomically.
void write_split_csv(const std::filesystem::path& path, const Manifest& m,
                     const SplitPolicy& policy, const SplitResult& r);

}  // namespace hptrain::data
