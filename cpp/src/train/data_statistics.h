// What training takes from the training split before the first step: the per-row input
// normalisation and the class weights of the loss.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "hptrain/data/dataset.h"
#include "hptrain/models/net.h"
#include "hptrain/train/experiment.h"

namespace hptrain::train::detail {

// Per-row mean and standard deviation of the training inputs over examples and frames, set as
// `net`'s input normalisation.
void fit_normalization(models::Net& net, const data::ShardDataset& ds, data::Input in,
                       int prefetch);

// Inverse-frequency class weights n / (k * count) per task (1 for a class absent from train),
// all 1 unless t.class_weighting is "balanced"; on `device`.
std::vector<torch::Tensor> class_weights(const data::ShardDataset& ds,
                                         const std::vector<std::string>& tasks,
                                         const TrainConfig& t, torch::Device device);

}  // namespace hptrain::train::detail
