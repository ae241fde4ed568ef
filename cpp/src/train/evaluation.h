// A model's class probabilities and mean loss on a dataset split (validation during training,
// test after it, `hptrain evaluate`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hptrain/data/dataset.h"
#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"
#include "train/run_common.h"

namespace hptrain::train::detail {

struct Predictions {
  Probabilities probabilities;  // in ds's order: score(ds, probabilities) gives the metrics
  double loss = 0;              // mean cross-entropy over examples and tasks
};

class RankGroup;

// Runs `net` in eval mode over `ds` in order, in batches of t.batch_size, on `device`. With
// `ranks`, each rank runs its rank_range of the examples and every rank gets the gathered
// result (the same on all: the best epoch and early stopping agree).
Predictions predict(models::Net& net, const data::ShardDataset& ds, data::Input in,
                    const std::vector<std::string>& tasks, const TrainConfig& t,
                    torch::Device device, RankGroup* ranks = nullptr);

}  // namespace hptrain::train::detail
