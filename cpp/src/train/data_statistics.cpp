// Input normalisation and class weights from the training split (data_statistics.h).
#include "train/data_statistics.h"

#include "train/batches.h"

namespace hptrain::train::detail {

void fit_normalization(models::Net& net, const data::ShardDataset& ds, data::Input in,
                       int prefetch) {
  const int64_t rows = ds.example_shape(in)[0];
  auto sum = torch::zeros({rows}, torch::kFloat64), sq = torch::zeros({rows}, torch::kFloat64);
  int64_t count = 0;
  data::Prefetcher reader(ds, in, 64, false, 0, prefetch);
  data::Batch b;
  while (reader.next(b)) {
    const auto x = batch_tensor(b, torch::kFloat64);
    sum += x.sum(std::vector<int64_t>{0, 2});
    sq += (x * x).sum(std::vector<int64_t>{0, 2});
    count += x.size(0) * x.size(2);
  }
  const auto mean = sum / static_cast<double>(count);
  const auto var = (sq / static_cast<double>(count) - mean * mean).clamp_min(0);
  net->set_normalization(mean.to(torch::kFloat32), var.sqrt().to(torch::kFloat32));
}

// Inverse-frequency class weights n / (k * count) per task (1 for a class absent from train).
std::vector<torch::Tensor> class_weights(const data::ShardDataset& ds,
                                         const std::vector<std::string>& tasks,
                                         const TrainConfig& t, torch::Device device) {
  std::vector<torch::Tensor> w;
  for (const auto& task : tasks) {
    const int64_t k = static_cast<int64_t>(ds.classes(task).size());
    std::vector<double> counts(k, 0.0);
    for (int64_t y : ds.labels(task)) counts[y] += 1;
    std::vector<float> v(k, 1.0f);
    if (t.class_weighting == "balanced") {
      for (int64_t c = 0; c < k; ++c) {
        if (counts[c] > 0)
          v[c] = static_cast<float>(static_cast<double>(ds.size()) / (k * counts[c]));
      }
    }
    w.push_back(torch::tensor(v).to(device));
  }
  return w;
}

}  // namespace hptrain::train::detail
