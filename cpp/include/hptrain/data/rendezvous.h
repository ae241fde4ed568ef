// What the ranks of a distributed `hptrain prepare` share: an all-gather of small byte strings
// (and a barrier made of it). LibTorch-free: the data area codes against this interface and the
// train area implements it over c10d's TCPStore (train/distributed_store.h); README, "Scaling out".
#pragma once

#include <string>
#include <vector>

namespace hptrain::data {

class Rendezvous {
 public:
  virtual ~Rendezvous() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;  // the world size, >= 1

  // Every rank's `mine` for the step `tag`, in rank order, once every rank has given its own.
  // `tag` names one step of the job and is used once (e.g. "prepare/plan"); values are small
  // (a few kB: summaries, error messages). Blocks as long as the ranks that have not arrived
  // yet are alive; throws hptrain::Error naming a rank that has ended or stopped answering,
  // never waits forever.
  virtual std::vector<std::string> all_gather(const std::string& tag, const std::string& mine) = 0;

  void barrier(const std::string& tag) { all_gather(tag, ""); }
  bool root() const { return rank() == 0; }
};

}  // namespace hptrain::data
