// prepare on the ranks of a job (prepare.h, README "Scaling out"): which files and shard names
// are a rank's, what it reports to the others, and the steps that keep the ranks in step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/data/manifest.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/rendezvous.h"
#include "hptrain/data/shard.h"

namespace hptrain::data::detail {

// Where this process's shards go. A single process: all of a split's files, names
// `<split>-<i>.h5`. Rank r of N: a contiguous range of each split's files (file_range) and
// names `<split>-part<r>of<N>-<i>.h5`, which no other rank writes and no reader lists; rank 0
// renames them into `<split>-<i>.h5` in rank order once every rank is done, so that the dataset
// holds the single process's examples in the single process's order.
struct Part {
  int rank = 0;
  int world = 1;
  bool whole() const { return world == 1; }
  std::string name(const std::string& split, int64_t i) const {
    if (whole()) return shard_name(split, i);
    return split + "-part" + std::to_string(rank) + "of" + std::to_string(world) + "-" +
           std::to_string(i) + ".h5";
  }
};

struct PartShard {
  int rank = 0;
  int world = 0;
  int64_t index = 0;
  std::filesystem::path path;
};

// The ranks' own shards of `split` under `dir`, of any world size, by world, rank and index.
std::vector<PartShard> list_part_shards(const std::filesystem::path& dir, const std::string& split);

// The shards of `split` that `part` writes, by index.
std::vector<std::pair<int64_t, std::filesystem::path>> own_shards(const std::filesystem::path& dir,
                                                                  const std::string& split,
                                                                  const Part& part);

// The files [begin, end) of a split (of the lengths `durations`, seconds, <= 0: unknown) that
// rank `rank` of `world` prepares: contiguous, in rank order, cut where the durations (1 s for an
// unknown one) reach rank/world of their sum, so that the ranks get about as much audio each.
std::pair<size_t, size_t> file_range(const std::vector<double>& durations, int rank, int world);

// What one rank did: per split its counts and the files it left out (--skip-bad-rows), the
// shards it kept and wrote, and its files shorter than R128's gating block.
struct RankWork {
  std::map<std::string, SplitSummary> splits;
  std::map<std::string, std::vector<BadRow>> skipped;
  int64_t kept = 0, written = 0, ungated = 0;
};

std::string to_text(const RankWork& w);       // JSON
RankWork rank_work(const std::string& text);  // from to_text

// One step of prepare on every rank: `work` gives this rank's payload; returns every rank's, in
// rank order. An error on any rank is thrown on every rank (this rank's own first; another's
// with its type, ConfigError, InputError or Error, and its rank named), so that all stop with
// it and none waits for a rank that failed. A single process (`rdv` null): `work`'s payload.
std::vector<std::string> step(Rendezvous* rdv, const std::string& tag,
                              const std::function<std::string()>& work);

// Rank 0, once every rank is done: each rank's shards of each split (`works[r]` counts them), in
// rank order, renamed `<split>-<i>.h5` under `dir`; InputError when rank 0 does not see them
// all (an output folder not shared by the ranks).
void rename_parts(const std::filesystem::path& dir, int world, const std::vector<RankWork>& works);

}  // namespace hptrain::data::detail
