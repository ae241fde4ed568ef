// The process group of a data-parallel run on LibTorch's c10d: a TCPStore at the master, then
// ProcessGroupNCCL on CUDA (one GPU per local rank) or ProcessGroupGloo on the CPU; the
// collectives training needs, each failure an error that names the ranks that are gone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hptrain/data/rendezvous.h"
#include "hptrain/error.h"
#include "hptrain/train/distributed.h"

namespace hptrain::train::detail {

// A collective that failed: a rank died (at once) or stalled (after HPTRAIN_DIST_TIMEOUT).
class RankFailure : public Error {
 public:
  using Error::Error;
};

// Whether this build can join CPU ranks: Gloo's headers were found beside LibTorch's (Debian's
// LibTorch with libgloo-dev; PyPI's torch wheels ship none, so a build against them has NCCL
// ranks only).
bool cpu_ranks_supported();

class RankGroup {
 public:
  // Joins the job `env` describes (env.distributed() must hold) on NCCL when `cuda`, else Gloo,
  // and checks that every rank runs the same `fingerprint` (experiment and options). Errors
  // on every rank, before anything is written: ConfigError for a port in use at the master or
  // ranks that disagree; InputError for a master or ranks not reached in connect_timeout_s().
  static std::unique_ptr<RankGroup> join(const RankEnv& env, bool cuda,
                                         const std::string& fingerprint);
  ~RankGroup();
  RankGroup(const RankGroup&) = delete;
  RankGroup& operator=(const RankGroup&) = delete;

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  bool root() const { return env_.rank == 0; }
  const RankEnv& env() const { return env_; }

  // Where the backend's tensors live: cuda:<local rank> on NCCL, the CPU on Gloo.
  torch::Device device() const;

  void barrier(const char* what);

  // Whether `flag` is raised on any rank (Ctrl-C after an epoch).
  bool any(bool flag);

  // Floating-point buffers (BatchNorm's running mean and variance) averaged over the ranks.
  void average_buffers(torch::nn::Module& net);

  // Sums the gradients of `params` over the ranks in place, in buckets of about kBucketBytes
  // (one flat copy per bucket, all-reduced while the next is packed); a parameter without a
  // gradient counts as zeros. `flag` (0 or 1 on this rank) rides in the last bucket: returns
  // whether any rank raised it (Ctrl-C), so that every rank stops after the same step.
  bool all_reduce_gradients(const std::vector<torch::Tensor>& params, bool flag);

  // Sums `t` (any shape and dtype the backend reduces) over the ranks in place.
  void all_reduce_sum(torch::Tensor& t, const char* what);

  // Rank 0's values of `tensors` on every rank (weights after initialisation or resume).
  void broadcast_from_root(std::vector<torch::Tensor> tensors, const char* what);

  // A data::Rendezvous over the job's store, for the data work of a training job (its
  // distributed prepare); each rank's heartbeat runs while it lives.
  std::unique_ptr<data::Rendezvous> rendezvous() const;

  // The rows of `local` ([n_r, ...], n_r may differ per rank) of every rank, in rank order.
  torch::Tensor all_gather_rows(const torch::Tensor& local, const char* what);

  // Seconds spent in all_reduce_gradients (packing, the all-reduce, unpacking), its calls and
  // the bytes of the last one, since the last call of this (the epoch's log line).
  struct ReduceTime {
    double seconds = 0;
    int64_t calls = 0, bytes = 0, buckets = 0;
  };
  ReduceTime take_reduce_time();

  static constexpr int64_t kBucketBytes = int64_t{25} << 20;  // DDP's default bucket_cap_mb

 private:
  struct Impl;
  explicit RankGroup(RankEnv env);
  [[noreturn]] void fail(const char* what, const std::exception& e) const;

  RankEnv env_;
  std::unique_ptr<Impl> impl_;
  ReduceTime reduce_time_;
};

}  // namespace hptrain::train::detail
