// A model's class probabilities and mean loss on a dataset split (evaluation.h).
#include "train/evaluation.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "hptrain/models/torch_device.h"
#include "hptrain/train/device_queue.h"
#include "train/batches.h"
#include "train/rank_batches.h"
#include "train/rank_group.h"

namespace hptrain::train::detail {

namespace F = torch::nn::functional;

Predictions predict(models::Net& net, const data::ShardDataset& ds, data::Input in,
                    const std::vector<std::string>& tasks, const TrainConfig& t,
                    torch::Device device, RankGroup* ranks) {
  torch::NoGradGuard no_grad;
  net->eval();
  // probabilities and the loss stay on the device until the last batch (no wait per batch);
  // the loss in float64, each batch's float32 sum added in order, as a host sum would
  std::vector<std::vector<torch::Tensor>> probs(tasks.size());
  torch::Tensor loss = torch::zeros({}, torch::TensorOptions(torch::kFloat64).device(device));
  std::unique_ptr<data::Prefetcher> whole;
  std::unique_ptr<RankReader> part;
  const int64_t batch = inference_batch_size(t.batch_size, ds.example_shape(in), device.is_cuda());
  if (ranks != nullptr) {
    const auto [lo, hi] = rank_range(ds.size(), ranks->rank(), ranks->size());
    part = std::make_unique<RankReader>(ds, in, range_batches(lo, hi, batch), stage_for(device));
  } else {
    whole =
        std::make_unique<data::Prefetcher>(ds, in, batch, false, 0, t.prefetch, stage_for(device));
  }
  data::Batch b;
  while (part ? part->next(b) : whole->next(b)) {
    std::vector<torch::Tensor> logits;
    {
      models::AutocastGuard autocast(device.is_cuda() && t.mixed_precision);
      logits = net->forward(batch_tensor(b, device));
    }
    for (size_t k = 0; k < tasks.size(); ++k) {
      const auto& y = b.labels.at(tasks[k]);
      const auto lg = logits[k].to(torch::kFloat32);
      loss.add_(F::cross_entropy(lg, to_device(torch::tensor(y), device),
                                 F::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kFloat64));
      probs[k].push_back(torch::softmax(lg, 1));
    }
  }
  Predictions out;
  for (size_t k = 0; k < tasks.size(); ++k) {
    std::vector<float> p;
    torch::Tensor local;
    if (!probs[k].empty()) {
      local = torch::cat(probs[k]);
    } else if (ranks != nullptr) {  // an empty part still takes part in the gather
      local = torch::zeros({0, static_cast<int64_t>(ds.classes(tasks[k]).size())},
                           torch::TensorOptions(torch::kFloat32).device(device));
    }
    if (ranks != nullptr) {
      // the parts in rank order are the examples in index order
      local = ranks->all_gather_rows(local.contiguous(), "gathering the predictions");
    }
    if (local.defined()) {
      const auto all = local.cpu().contiguous();
      p.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    }
    out.probabilities[tasks[k]] = std::move(p);
  }
  if (ranks != nullptr) ranks->all_reduce_sum(loss, "summing the evaluation loss");
  out.loss = loss.item<double>() / static_cast<double>(std::max<int64_t>(
                                       1, ds.size() * static_cast<int64_t>(tasks.size())));
  return out;
}

}  // namespace hptrain::train::detail
