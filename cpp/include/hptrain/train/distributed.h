// Where this process stands in a data-parallel job: its rank, the world size and the master's
// address, read from torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT) or SLURM's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID); LibTorch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace hptrain::train {

struct RankEnv {
  int rank = 0;
  int world_size = 1;  // 1: a single process, no process group
  int local_rank = 0;  // the rank among those on this machine (its GPU on CUDA)
  std::string master_addr;
  int master_port = 0;
  std::string source;  // "torchrun" (RANK, WORLD_SIZE...) or "slurm" (SLURM_*), empty when alone

  bool group = false;  // join a process group: world_size > 1, or torchrun's world of 1

  bool distributed() const { return group; }
  std::string describe() const;  // "rank 1 of 2 (local 1), master 127.0.0.1:29500, from torchrun"
};

// Reads the job's variables through `getenv` (the process's by default). WORLD_SIZE wins over
// SLURM_NTASKS; when both are set they must agree (and RANK with SLURM_PROCID). ConfigError
// naming the variable and the rule for anything inconsistent: a rank outside [0, world size),
// a missing RANK or MASTER_ADDR/MASTER_PORT when the world has more than one rank, a port
// outside 1..65535, a value that is not a whole number. A world of 1 joins a process group
// only when launched by torchrun (MASTER_ADDR and MASTER_PORT set), as PyTorch's would.
RankEnv read_rank_env(const std::function<const char*(const char*)>& getenv = nullptr);

// Seconds a rank waits for the master and the others at start-up (HPTRAIN_CONNECT_TIMEOUT,
// default 60) and for any collective operation later (HPTRAIN_DIST_TIMEOUT, default 600): a
// rank that stalls makes the others fail after that long; a rank that dies, at once.
int connect_timeout_s();
int collective_timeout_s();

// The `[begin, end)` of `n` items that rank `rank` of `world` takes: contiguous, sizes differing
// by at most one, in rank order (evaluation's split, the parts of a global batch).
std::pair<int64_t, int64_t> rank_range(int64_t n, int rank, int world);

struct RankBatch {
  std::vector<int64_t> global;  // the global batch (what one process would read)
  std::vector<int64_t> local;   // this rank's part of it (may be empty in a short last batch)
};

// Global batches of `batch_size` over the order data::Prefetcher uses (data::permutation of
// `seed` when `shuffle`, else 0..n-1), each cut with rank_range(size, rank, world).
std::vector<RankBatch> rank_batches(int64_t n, int64_t batch_size, bool shuffle, uint64_t seed,
                                    int rank, int world);

// The rows [begin, end) of an unshuffled pass, in batches of `batch_size` (evaluation's part).
std::vector<RankBatch> range_batches(int64_t begin, int64_t end, int64_t batch_size);

}  // namespace hptrain::train
