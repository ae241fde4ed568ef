// This rank's part of an epoch: the single-process order of global batches (same seed, same
// permutation), each split into contiguous per-rank parts, read one batch ahead; and each
// rank's share of a global batch's loss, so that the summed gradients are the single process's.
#pragma once

#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hptrain/data/dataset.h"
#include "hptrain/train/distributed.h"

namespace hptrain::train::detail {

// Reads `batches`' local parts in order, the next one on another thread while the caller
// works on the current one; `stage` as data::Prefetcher's. An empty part gives a Batch with no
// indices and shape [0, ...].
class RankReader {
 public:
  RankReader(const data::ShardDataset& ds, data::Input in, std::vector<RankBatch> batches,
             data::Prefetcher::Stage stage = {});
  ~RankReader();
  RankReader(const RankReader&) = delete;
  RankReader& operator=(const RankReader&) = delete;

  bool next(data::Batch& out);  // false at the end
  const RankBatch& current() const { return batches_.at(at_ - 1); }

 private:
  void start(size_t k);

  const data::ShardDataset& ds_;
  data::Input in_;
  std::vector<RankBatch> batches_;
  data::Prefetcher::Stage stage_;
  size_t at_ = 0;
  std::future<data::Batch> ahead_;
};

// Per task, the weight of this rank's examples in the global batch's weighted-mean
// cross-entropy: sum of w[y] over `local` / sum over `global` (w: the task's class weights, on
// the host). Scaling each rank's weighted mean by it makes the sum over ranks the global mean.
std::vector<double> loss_shares(const data::ShardDataset& ds, const std::vector<std::string>& tasks,
                                const std::vector<std::vector<float>>& class_weights,
                                const RankBatch& b);

}  // namespace hptrain::train::detail
