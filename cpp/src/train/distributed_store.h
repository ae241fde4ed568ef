// The job's c10d store (a TCPStore served by rank 0, or torchrun's agent store) and, over it, the
// data area's Rendezvous (data/rendezvous.h) for a distributed `hptrain prepare`: all-gathers of
// small strings through store keys, with a heartbeat per rank so that a wait ends, naming the
// rank, when one has ended (at once on this machine) or stopped answering (any machine).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <torch/csrc/distributed/c10d/Store.hpp>

#include "hptrain/data/rendezvous.h"
#include "hptrain/train/distributed.h"

namespace hptrain::train::detail {

struct StoreConnection {
  c10::intrusive_ptr<c10d::Store> store;            // the job's keys, under hptrain's prefix
  std::vector<std::pair<std::string, long>> procs;  // host and pid of each rank
};

// Connects rank env.rank to the job's store (env.distributed() must hold) and checks that every
// rank runs the same `fingerprint` (experiment or dataset, and options). Errors on every rank:
// ConfigError for a port in use at the master or ranks that disagree; InputError for a master
// or ranks not reached in connect_timeout_s(). The store's timeout is then the connect timeout.
StoreConnection connect_store(const RankEnv& env, const std::string& fingerprint);

// The ranks among `procs` on this machine, other than `self`, whose process has ended, as
// "1 (pid 4242), 3 (pid 4250)"; empty when none. `among`: only those ranks (all when empty).
std::string ended_ranks(const std::vector<std::pair<std::string, long>>& procs, int self,
                        const std::vector<int>& among = {});

class StoreRendezvous : public data::Rendezvous {
 public:
  // Joins the job `env` (connect_store) with `fingerprint`; starts this rank's heartbeat.
  StoreRendezvous(const RankEnv& env, const std::string& fingerprint);
  // Over a store the job already joined (a training's process group); starts the heartbeat.
  StoreRendezvous(const RankEnv& env, StoreConnection conn);
  ~StoreRendezvous() override;
  StoreRendezvous(const StoreRendezvous&) = delete;
  StoreRendezvous& operator=(const StoreRendezvous&) = delete;

  int rank() const override { return env_.rank; }
  int size() const override { return env_.world_size; }

  // Waits without a time limit while the missing ranks live: a rank on this machine whose
  // process has ended fails it at once, a rank whose heartbeat (one a second) stopped for
  // connect_timeout_s() fails it then, a master that is gone at once. Rank 0, which serves the
  // store, returns only once every rank has read the values.
  std::vector<std::string> all_gather(const std::string& tag, const std::string& mine) override;

  static constexpr double kHeartbeatS = 1.0;

 private:
  // Until every key of `keys` (one per rank) is set; Error naming the ranks that cannot set theirs.
  void wait_for(const std::vector<std::string>& keys, const std::string& what);
  [[noreturn]] void lost_master(const std::string& what, const std::exception& e) const;

  RankEnv env_;
  StoreConnection conn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread heartbeat_;
};

}  // namespace hptrain::train::detail
