// A run's rows of one split (speakers/embed.h): each chunk of its shards embedded and labelled
// by the run's speaker task, and the threshold calibrated on them (split_verification.h).
#include <optional>
#include <string>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/speakers/embed.h"
#include "hptrain/speakers/split_verification.h"
#include "hptrain/train/noise_augment.h"
#include "speakers/embedder_impl.h"

namespace hptrain::speakers {

const std::string& Embedder::speaker_task() const {
  return impl_->speaker_task;
}

uint64_t Embedder::seed() const {
  return static_cast<uint64_t>(impl_->cfg.seed);
}

Embedder::SplitRows Embedder::embed_split(const std::string& split) {
  return embed_shards(impl_->cfg.prepare_data(), split);
}

Embedder::SplitRows Embedder::embed_training_split() {
  Impl& m = *impl_;
  const auto prepared = m.cfg.prepare_data();
  if (!m.cfg.train.augment.noise.enabled()) return embed_shards(prepared, "train");
  // the noisy copies training made in the run folder; made again, under the run folder's lock,
  // if the shards changed since (read only otherwise: diarize processes may share the run)
  train::ExperimentConfig cfg = m.cfg;
  cfg.output_dir = m.run;
  std::optional<fs::Lock> lock;
  if (!train::noisy_training_shards_current(cfg, prepared)) {
    lock.emplace(m.run / fs::kLockName, "run folder '" + m.run.string() + "'");
  }
  return embed_shards(train::noisy_training_shards(cfg, prepared), "train");
}

Embedder::SplitRows Embedder::embed_shards(const std::filesystem::path& shards,
                                           const std::string& split) {
  Impl& m = *impl_;
  if (m.speaker_task.empty()) {
    throw InputError("run '" + m.run.string() + "' has no speaker task to calibrate on (model." +
                     "loss_task = '" + m.cfg.model.loss_task + "' is not one of its tasks)");
  }
  const data::ShardDataset ds(shards, split);
  std::string background;
  for (const auto& t : m.dataset.tasks) {
    if (t.name == m.speaker_task) background = t.background;
  }
  SplitOptions so;
  so.batch_size = m.batch;
  so.bf16 = m.bf16;
  so.frames = features::n_frames(m.dataset.features, m.len);
  auto e = speakers::embed_split(m.net, m.device, ds, m.in, m.speaker_task, background, so);
  SplitRows r;
  r.n = e.n;
  r.dim = e.dim;
  r.data = std::move(e.data);
  r.labels = std::move(e.labels);
  return r;
}

metrics::Verification Embedder::calibrate(const std::string& split) {
  const auto r = embed_split(split);
  SplitEmbeddings e;
  e.n = r.n;
  e.dim = r.dim;
  e.data = r.data;
  e.labels = r.labels;
  const auto v = verify(e, static_cast<uint64_t>(impl_->cfg.seed));
  if (!v) {
    throw InputError("run '" + impl_->run.string() + "': its " + split + " split has no pair of " +
                     "chunks of the same and of different " + impl_->speaker_task +
                     " classes to calibrate a threshold on");
  }
  return *v;
}

}  // namespace hptrain::speakers
