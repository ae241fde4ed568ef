// Verification of a prepared split's chunk embeddings (speakers/split_verification.h).
#include "hptrain/speakers/split_verification.h"

#include <algorithm>
#include <cmath>

#include "hptrain/data/dataset_config.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/models/torch_device.h"

namespace hptrain::speakers {

SplitEmbeddings embed_split(models::Net& net, torch::Device device, const data::ShardDataset& ds,
                            data::Input in, const std::string& task, const std::string& background,
                            const SplitOptions& opts) {
  const auto& classes = ds.classes(task);
  const auto bg = std::find(classes.begin(), classes.end(), background);
  const int64_t bg_label = bg == classes.end() ? -1 : bg - classes.begin();
  torch::NoGradGuard no_grad;
  net->eval();
  SplitEmbeddings out;
  out.dim = net->embedding_size();
  data::Prefetcher reader(ds, in, std::max<int64_t>(1, opts.batch_size), false, 0,
                          std::max(1, opts.prefetch));
  data::Batch b;
  while (reader.next(b)) {
    auto x = torch::from_blob(b.x.data(), b.shape, torch::kFloat32);
    if (opts.frames > 0 && x.size(2) > opts.frames) x = x.slice(2, 0, opts.frames);
    torch::Tensor e;
    {
      models::AutocastGuard autocast(opts.bf16, device);
      e = net->embed(x.to(device));
    }
    e = torch::nn::functional::normalize(e.to(torch::kFloat32),
                                         torch::nn::functional::NormalizeFuncOptions().dim(1))
            .cpu()
            .contiguous();
    out.data.insert(out.data.end(), e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
    for (int64_t y : b.labels.at(task)) out.labels.push_back(y == bg_label ? -1 : y);
  }
  out.n = static_cast<int64_t>(out.labels.size());
  return out;
}

std::optional<std::string> speaker_task(const train::ExperimentConfig& cfg,
                                        const std::vector<std::string>& tasks) {
  if (std::find(tasks.begin(), tasks.end(), cfg.model.loss_task) == tasks.end()) return {};
  return cfg.model.loss_task;
}

std::optional<metrics::Verification> verify(const SplitEmbeddings& e, uint64_t seed) {
  const auto trials = metrics::embedding_trials(e.data.data(), e.n, e.dim, e.labels, 2000000, seed);
  const auto targets = std::count(trials.target.begin(), trials.target.end(), true);
  if (targets == 0 || targets == static_cast<int64_t>(trials.target.size())) return {};
  return metrics::verification(trials.scores, trials.target);
}

nlohmann::json to_json(const metrics::Verification& v) {
  return {
      {"eer", v.eer},
      {"min_dcf", v.min_dcf},
      {"threshold", v.threshold},
      {"min_dcf_threshold", std::isinf(v.min_dcf_threshold) ? nlohmann::json(nullptr)
                                                            : nlohmann::json(v.min_dcf_threshold)},
      {"p_target", metrics::DcfConfig{}.p_target},
      {"targets", v.targets},
      {"nontargets", v.nontargets}};
}

void add_verification(const std::filesystem::path& metrics_json, nlohmann::json& metrics,
                      models::Net& net, torch::Device device, const data::ShardDataset& ds,
                      data::Input in, const train::ExperimentConfig& cfg,
                      const std::vector<std::string>& tasks) {
  const auto task = speaker_task(cfg, tasks);
  if (!task || !metrics.contains("tasks") || !metrics["tasks"].contains(*task)) return;
  std::string background;
  if (!cfg.dataset.empty()) {
    for (const auto& t : data::load_dataset_config(cfg.dataset).tasks) {
      if (t.name == *task) background = t.background;
    }
  }
  SplitOptions opts;
  opts.batch_size = cfg.train.batch_size;
  opts.bf16 = device.is_cuda() && cfg.train.mixed_precision;  // as the evaluation's forward
  const auto e = embed_split(net, device, ds, in, *task, background, opts);
  const auto v = verify(e, static_cast<uint64_t>(cfg.seed));
  if (!v) {
    HP_LOG_WARN(
        "{}: no verification for task '{}': the split has no pair of the same and of "
        "different classes",
        cfg.name, *task);
    return;
  }
  metrics["tasks"][*task]["verification"] = to_json(*v);
  fs::write_text(metrics_json, metrics.dump(2) + "\n");
  HP_LOG_INFO(
      "{}: {} verification: EER {:.2f} %, minDCF {:.3f} ({} target and {} non-target "
      "pairs)",
      cfg.name, *task, 100 * v->eer, v->min_dcf, v->targets, v->nontargets);
}

}  // namespace hptrain::speakers
