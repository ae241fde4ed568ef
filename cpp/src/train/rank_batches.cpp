// This rank's part of an epoch (rank_batches.h).
#include "train/rank_batches.h"

#include <algorithm>
#include <numeric>

namespace hptrain::train {

std::pair<int64_t, int64_t> rank_range(int64_t n, int rank, int world) {
  return {n * rank / world, n * (rank + 1) / world};
}

std::vector<RankBatch> rank_batches(int64_t n, int64_t batch_size, bool shuffle, uint64_t seed,
                                    int rank, int world) {
  // ref: data::Prefetcher's constructor and run(): the same order and the same batches
  auto order = data::permutation(n, seed);
  if (!shuffle) std::sort(order.begin(), order.end());
  std::vector<RankBatch> out;
  for (int64_t first = 0; first < n; first += batch_size) {
    RankBatch b;
    b.global.assign(order.begin() + first, order.begin() + std::min(n, first + batch_size));
    const auto [lo, hi] = rank_range(static_cast<int64_t>(b.global.size()), rank, world);
    b.local.assign(b.global.begin() + lo, b.global.begin() + hi);
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<RankBatch> range_batches(int64_t begin, int64_t end, int64_t batch_size) {
  std::vector<RankBatch> out;
  for (int64_t first = begin; first < end; first += batch_size) {
    RankBatch b;
    b.local.resize(static_cast<size_t>(std::min(end, first + batch_size) - first));
    std::iota(b.local.begin(), b.local.end(), first);
    b.global = b.local;
    out.push_back(std::move(b));
  }
  return out;
}

namespace detail {

RankReader::RankReader(const data::ShardDataset& ds, data::Input in, std::vector<RankBatch> batches,
                       data::Prefetcher::Stage stage)
    : ds_(ds), in_(in), batches_(std::move(batches)), stage_(std::move(stage)) {
  start(0);
}

RankReader::~RankReader() {
  if (ahead_.valid()) ahead_.wait();
}

void RankReader::start(size_t k) {
  if (k >= batches_.size()) return;
  ahead_ = std::async(std::launch::async, [this, k] {
    const auto& idx = batches_[k].local;
    data::Batch b;
    if (idx.empty()) {
      b.shape = ds_.example_shape(in_);
      b.shape.insert(b.shape.begin(), 0);
      for (const auto& t : ds_.tasks()) b.labels[t] = {};
    } else {
      b = ds_.get(idx, in_);
    }
    if (stage_ && !idx.empty()) stage_(b);
    return b;
  });
}

bool RankReader::next(data::Batch& out) {
  if (at_ >= batches_.size()) return false;
  out = ahead_.get();  // rethrows the reader's error
  ++at_;
  start(at_);
  return true;
}

std::vector<double> loss_shares(const data::ShardDataset& ds, const std::vector<std::string>& tasks,
                                const std::vector<std::vector<float>>& class_weights,
                                const RankBatch& b) {
  std::vector<double> share;
  for (size_t k = 0; k < tasks.size(); ++k) {
    const auto& y = ds.labels(tasks[k]);
    const auto& w = class_weights[k];
    double local = 0, global = 0;
    for (int64_t i : b.local) local += w[static_cast<size_t>(y[static_cast<size_t>(i)])];
    for (int64_t i : b.global) global += w[static_cast<size_t>(y[static_cast<size_t>(i)])];
    share.push_back(global > 0 ? local / global : 0.0);
  }
  return share;
}

}  // namespace detail
}  // namespace hptrain::train
