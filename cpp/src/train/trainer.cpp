// The LibTorch path of a run (CNN / LSTM): the training loop with prefetched batches,
// augmentation, schedules, checkpoints and exact resume, early stopping; and run_experiment /
// run_evaluate, which dispatch to the tabular path for SVM / RF. Its parts: stop_signal.h
// (Ctrl-C), checkpoint.h, optimizer.h, batches.h, evaluation.h, data_statistics.h, history.h,
// torch_run.h (set-up shared with predict).
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pretrained.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/progress.h"
#include "hptrain/speakers/split_verification.h"
#include "hptrain/train/augment.h"
#include "hptrain/train/device_queue.h"
#include "hptrain/train/distributed.h"
#include "hptrain/train/init.h"
#include "hptrain/train/noise_augment.h"
#include "train/batches.h"
#include "train/checkpoint.h"
#include "train/data_statistics.h"
#include "train/evaluation.h"
#include "train/history.h"
#include "train/optimizer.h"
#include "train/rank_batches.h"
#include "train/rank_group.h"
#include "train/run_common.h"
#include "train/stop_signal.h"
#include "train/torch_run.h"

namespace hptrain::train {
namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using detail::batch_tensor;
using detail::class_weights;
using detail::configure_torch;
using detail::describe;
using detail::fit_normalization;
using detail::g_stop;
using detail::load_checkpoint;
using detail::lr_at;
using detail::make_optimizer;
using detail::plot_history;
using detail::predict;
using detail::save_checkpoint;
using detail::SigintHandler;
using detail::stage_for;
using detail::State;
using detail::step_status;
using detail::write_log_csv;

std::vector<int64_t> class_counts(const detail::RunClasses& classes) {
  std::vector<int64_t> n;
  for (const auto& [task, names] : classes) n.push_back(static_cast<int64_t>(names.size()));
  return n;
}

// The classes a run was trained with must be those of the dataset it is evaluated on.
void check_classes(const detail::RunClasses& saved, const data::ShardDataset& ds,
                   const std::filesystem::path& run) {
  for (const auto& [t, names] : saved) {
    if (names != ds.classes(t)) {
      throw InputError("run '" + run.string() + "' was trained with other classes for task '" + t +
                       "' than this dataset has");
    }
  }
}

// An epoch's batches: all of them in one process, this rank's parts in a data-parallel run.
struct EpochReader {
  std::optional<data::Prefetcher>& whole;
  std::optional<detail::RankReader>& part;
  bool next(data::Batch& b) { return part ? part->next(b) : whole->next(b); }
};

// The epoch's training-loss sum and example count over all ranks (each rank's own before).
void sum_over_ranks(detail::RankGroup& ranks, State& st) {
  auto v = torch::tensor({st.loss_sum, static_cast<double>(st.seen)}, torch::kFloat64)
               .to(ranks.device());
  ranks.all_reduce_sum(v, "summing the training loss");
  const auto h = v.cpu();
  st.loss_sum = h[0].item<double>();
  st.seen = static_cast<int64_t>(h[1].item<double>());
}

// ---- the training run -----------------------------------------------------------------------
// `ranks`: the process group of a data-parallel run (README, "Scaling out"), null when alone.
RunResult train_torch(const ExperimentConfig& cfg, const std::filesystem::path& shards,
                      const RunOptions& opts, detail::RankGroup* ranks) {
  const bool root = ranks == nullptr || ranks->root();
  const auto in = data::parse_input(cfg.input);
  const data::ShardDataset train(shards, "train");
  const data::ShardDataset validation(shards, "validation");
  const data::ShardDataset test(shards, "test");
  const auto tasks = detail::resolve_tasks(cfg, train);
  const TrainConfig& t = cfg.train;
  torch::Device device = models::resolve_device(t.device);
  if (ranks != nullptr && device.is_cuda())
    device = torch::Device(torch::kCUDA, ranks->env().local_rank);
  configure_torch(t, device);
  const std::string device_name = describe(device);
  const auto dir = cfg.output_dir;
  const auto last = dir / "checkpoint_last.pt", best = dir / "model_best.pt";

  const auto classes = detail::dataset_classes(train, tasks);
  const std::string fingerprint = detail::run_fingerprint(cfg, classes);
  torch::manual_seed(cfg.seed);
  models::Net net(cfg.model, train.example_shape(in)[0], class_counts(classes), tasks);
  net->to(device);
  models::check_encoder_sample_rate(*net, train.audio_sample_rate(), shards.string());
  const auto [params, encoder_params] = models::parameter_groups(*net);
  std::vector<torch::optim::OptimizerParamGroup> groups{torch::optim::OptimizerParamGroup(params)};
  if (!encoder_params.empty()) groups.emplace_back(encoder_params);
  auto optimizer = make_optimizer(t, groups);
  int64_t parameters = 0;
  for (const auto& p : net->parameters()) parameters += p.numel();

  State st;
  if (opts.resume) {
    // the run as it was recorded must be what this experiment builds, on these classes
    check_classes(detail::read_run_classes(dir, cfg, tasks, nullptr), train, dir);
    load_checkpoint(last, net, device, fingerprint, optimizer.get(), &st);
    if (root) fs::write_text(dir / "experiment.toml", cfg.resolved);
    HP_LOG_INFO("{}: resuming after epoch {} step {} (best validation macro-F1 {:.4f})", cfg.name,
                st.epoch, st.step_in_epoch, st.best_score);
    if (st.data != train.attr_string("fingerprint")) {
      HP_LOG_WARN(
          "{}: the shards were prepared again since the checkpoint: the resumed run "
          "continues on other data than it started with",
          cfg.name);
      st.data = train.attr_string("fingerprint");
    }
  } else {
    st.data = train.attr_string("fingerprint");
    // a new run in a used folder: no weights of the earlier one may pass for this one's
    std::error_code ignore;  // a file that cannot go is overwritten by the first epoch
    if (root)
      for (const auto& old : {last, best}) std::filesystem::remove(old, ignore);
    if (cfg.model.type != "pretrained") fit_normalization(net, train, in, t.prefetch);
    init_from_run(cfg, classes, net);  // model.init: after the normalisation, which it may replace
    if (root) detail::write_run_files(dir, cfg, classes);
  }
  if (ranks != nullptr) {
    // every rank starts from rank 0's weights and buffers; the ranks' random draws (dropout,
    // augmentation) differ, as they would for other examples in one process
    std::vector<torch::Tensor> all = net->parameters();
    for (const auto& b : net->buffers()) all.push_back(b);
    {
      torch::NoGradGuard no_grad;
      ranks->broadcast_from_root(all, "broadcasting rank 0's weights");
    }
    if (!root) {
      torch::manual_seed(cfg.seed + static_cast<uint64_t>(ranks->rank()));
      st.loss_sum = 0;  // the epoch's sums so far are rank 0's (all ranks' summed)
      st.seen = 0;
    }
  }
  HP_LOG_INFO("{}: {} ({} parameters) on {}, {} train / {} validation / {} test examples of {}",
              cfg.name, cfg.model.type, parameters, device_name, train.size(), validation.size(),
              test.size(), cfg.input);

  const auto weights = class_weights(train, tasks, t, device);
  std::vector<std::vector<float>> host_weights;  // for each rank's share of a global batch
  for (const auto& w : weights) {
    const auto c = w.cpu().contiguous();
    host_weights.emplace_back(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  const int64_t steps_per_epoch = (train.size() + t.batch_size - 1) / t.batch_size;
  const bool bf16 = device.is_cuda() && t.mixed_precision;
  SigintHandler sigint;
  while (!st.finished && st.epoch < t.epochs) {
    const auto epoch_start = Clock::now();
    models::set_encoder_trainable(*net, st.epoch >= cfg.model.freeze_epochs);
    const uint64_t epoch_seed = cfg.seed * 1000003ull + static_cast<uint64_t>(st.epoch);
    std::optional<data::Prefetcher> whole;
    std::optional<detail::RankReader> part;
    if (ranks != nullptr) {
      part.emplace(
          train, in,
          rank_batches(train.size(), t.batch_size, true, epoch_seed, ranks->rank(), ranks->size()),
          stage_for(device));
    } else {
      whole.emplace(train, in, t.batch_size, true, epoch_seed, t.prefetch, stage_for(device));
    }
    EpochReader reader{whole, part};
    Progress bar("epoch " + std::to_string(st.epoch + 1) + "/" + std::to_string(t.epochs),
                 static_cast<size_t>(train.size()), "ex");
    data::Batch b;
    for (int64_t k = 0; k < st.step_in_epoch && reader.next(b); ++k) bar.advance(b.indices.size());
    const int64_t resumed_seen = st.seen;
    double lr = t.lr;
    // no step waits for the device (to_device, clip_grad_norm, LossSum): the host queues
    // the next steps while it runs, and waits only for the reader, the bar's loss (at most twice
    // a second) and the end of the epoch
    LossSum loss_sum(st.loss_sum, st.seen, device);
    // time from asking the reader for a batch until its copies are queued: at most the time the
    // device idles for want of data (less when the queued steps kept it busy meanwhile)
    double wait_s = 0;
    for (auto asked = Clock::now(); reader.next(b); asked = Clock::now()) {
      auto x = batch_tensor(b, device);
      wait_s += seconds_since(asked);
      net->train();
      lr = lr_at(t, st.global_step, steps_per_epoch);
      const double encoder_factor = models::encoder_lr_factor(cfg.model, t.lr, st.epoch);
      for (size_t g = 0; g < optimizer->param_groups().size(); ++g) {
        optimizer->param_groups()[g].options().set_lr(g == 0 ? lr : lr * encoder_factor);
      }
      augment(x, t.augment, in == data::Input::log_mel);
      std::vector<torch::Tensor> targets, logits;  // targets: for a margin head (model.loss)
      for (const auto& task : tasks) {
        targets.push_back(to_device(torch::tensor(b.labels.at(task)), device));
      }
      if (!b.indices.empty()) {  // a rank's part of a short last batch may be empty
        models::AutocastGuard autocast(bf16);
        logits = net->forward(x, targets);
      }
      torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(device));
      torch::Tensor share = loss;  // a rank's share of the global batch's loss
      const auto shares = ranks ? detail::loss_shares(train, tasks, host_weights, part->current())
                                : std::vector<double>{};
      for (size_t k = 0; k < logits.size(); ++k) {
        const auto ce = F::cross_entropy(logits[k].to(torch::kFloat32), targets[k],
                                         F::CrossEntropyFuncOptions().weight(weights[k]));
        loss = loss + ce;
        if (ranks && shares[k] > 0) share = share + ce * shares[k];
      }
      loss = loss / static_cast<double>(tasks.size());
      optimizer->zero_grad();
      bool stop = g_stop.load();
      if (ranks != nullptr) {
        // the summed shares are the single process's loss on the global batch; Ctrl-C on any
        // rank stops all after this step
        if (share.requires_grad()) (share / static_cast<double>(tasks.size())).backward();
        stop = ranks->all_reduce_gradients(net->parameters(), stop);
      } else {
        loss.backward();
      }
      if (t.grad_clip > 0) clip_grad_norm(net->parameters(), t.grad_clip);
      optimizer->step();

      const auto n = static_cast<int64_t>(b.indices.size());
      if (n > 0) loss_sum.add(loss, n);
      st.seen += n;
      ++st.step_in_epoch;
      ++st.global_step;
      bar.advance(static_cast<size_t>(n),
                  step_status(loss_sum.mean(std::chrono::milliseconds(500)), lr));
      if (stop || (opts.stop_after_steps > 0 && st.global_step >= opts.stop_after_steps)) {
        st.loss_sum = loss_sum.value();
        st.train_seconds += seconds_since(epoch_start);
        if (ranks != nullptr) sum_over_ranks(*ranks, st);
        if (root) save_checkpoint(last, net, fingerprint, optimizer.get(), &st);
        HP_LOG_WARN("{}: interrupted in epoch {} after step {}: saved {}; continue with --resume",
                    cfg.name, st.epoch + 1, st.step_in_epoch, last.string());
        return RunResult{dir, true, {}};
      }
    }
    st.loss_sum = loss_sum.value();  // the device done with the epoch's steps
    if (ranks != nullptr) {
      sum_over_ranks(*ranks, st);
      ranks->average_buffers(*net);
      const auto r = ranks->take_reduce_time();
      HP_LOG_INFO(
          "{}: gradient all-reduce: {:.2f} MB in {} bucket(s), {:.2f} ms per step ({:.1f} % "
          "of the epoch's training time)",
          cfg.name, static_cast<double>(r.bytes) / 1e6, r.buckets,
          1e3 * r.seconds / static_cast<double>(std::max<int64_t>(1, r.calls)),
          100 * r.seconds / std::max(1e-9, seconds_since(epoch_start)));
    }
    const double train_s = seconds_since(epoch_start);
    // the epoch's exact mean, not the bar's last (up to half a second old)
    bar.finish(step_status(st.loss_sum / static_cast<double>(std::max<int64_t>(1, st.seen)), lr));

    const auto val = predict(net, validation, in, tasks, t, device, ranks);
    const auto val_metrics = detail::score(validation, val.probabilities);
    std::vector<metrics::TaskMetrics> val_tasks;
    for (const auto& [name, m] : val_metrics) val_tasks.push_back(m);
    const double score = metrics::mean_f1_macro(val_tasks);
    nlohmann::json row = {{"epoch", st.epoch + 1},
                          {"lr", lr},
                          {"train_loss", st.loss_sum / std::max<int64_t>(1, st.seen)},
                          {"val_loss", val.loss},
                          {"val_f1_macro", score},
                          {"examples_per_s", static_cast<double>(st.seen - resumed_seen) / train_s},
                          {"data_wait", wait_s / train_s},
                          {"seconds", seconds_since(epoch_start)}};
    for (const auto& task : tasks) {
      row["val_accuracy_" + task] = val_metrics.at(task).accuracy;
      row["val_f1_" + task] = val_metrics.at(task).f1_macro;
    }
    st.history.push_back(row);
    ++st.epoch;
    st.step_in_epoch = 0;
    st.loss_sum = 0;
    st.seen = 0;
    // the best epoch: higher validation macro-F1, or the same with a lower validation loss (a
    // small validation set is often classified perfectly long before the model is trained)
    if (score > st.best_score || (score == st.best_score && val.loss < st.best_loss)) {
      st.best_score = score;
      st.best_loss = val.loss;
      st.best_epoch = st.epoch;
      st.bad_epochs = 0;
      if (root) save_checkpoint(best, net, fingerprint, nullptr, nullptr);
    } else {
      ++st.bad_epochs;
    }
    HP_LOG_INFO("{}: epoch {}/{}: train loss {:.4f}, validation loss {:.4f}, macro-F1 {:.4f}{}",
                cfg.name, st.epoch, t.epochs, row["train_loss"].get<double>(), val.loss, score,
                st.bad_epochs == 0 ? " (best)" : "");
    if (t.patience > 0 && st.bad_epochs >= t.patience) {
      HP_LOG_INFO(
          "{}: early stop: no better validation macro-F1 (or loss at an equal one) for {} "
          "epochs (best: epoch {})",
          cfg.name, t.patience, st.best_epoch);
      st.finished = true;
    }
    st.finished = st.finished || st.epoch >= t.epochs;
    st.train_seconds += seconds_since(epoch_start);
    if (root) {
      write_log_csv(dir / "log.csv", tasks, st.history);
      save_checkpoint(last, net, fingerprint, optimizer.get(), &st);
    }
    if (ranks != nullptr ? ranks->any(g_stop.load()) : g_stop.load()) {
      HP_LOG_WARN("{}: interrupted after epoch {}; continue with --resume", cfg.name, st.epoch);
      return RunResult{dir, true, {}};
    }
  }

  if (root) plot_history(dir / "training_curves.png", cfg.name, tasks, st.history);
  if (ranks != nullptr) ranks->barrier("model_best.pt written");
  load_checkpoint(best, net, device, fingerprint, nullptr, nullptr);
  const auto result = predict(net, test, in, tasks, t, device, ranks);
  auto header = detail::run_header(cfg, "test", device_name);
  header["train_seconds"] = st.train_seconds;
  header["epochs"] = st.epoch;
  header["best_epoch"] = st.best_epoch;
  header["validation_f1_macro"] = st.best_score;
  header["test_loss"] = result.loss;
  header["parameters"] = parameters;
  header["train_examples"] = train.size();
  RunResult r;
  r.run_dir = dir;
  if (!root) return r;  // rank 0 writes the results
  r.metrics = detail::write_results(dir, header, test, result.probabilities);
  speakers::add_verification(dir / "metrics.json", r.metrics, net, device, test, in, cfg, tasks);
  for (const auto& [task, m] : r.metrics.at("tasks").items()) {
    const auto& auc = m.at("roc_auc");
    HP_LOG_INFO("{}: test {}: accuracy {:.4f}, macro-F1 {:.4f}, ROC-AUC {}", cfg.name, task,
                m.at("accuracy").get<double>(), m.at("f1_macro").get<double>(),
                auc.is_null() ? "n/a" : std::to_string(auc.get<double>()));
  }
  return r;
}

}  // namespace

RunResult run_experiment(const RunOptions& opts) {
  const auto cfg = load_experiment(opts.experiment, opts.overrides);
  // a data-parallel run when the launcher says so (README, "Scaling out"); every rank checks
  // the job's variables and that all run the same experiment before anything is written
  const auto env = read_rank_env();
  std::unique_ptr<detail::RankGroup> ranks;
  if (env.distributed() && cfg.tabular()) {
    if (env.rank != 0) {
      HP_LOG_INFO("{}: the SVM / forest baselines train on rank 0 alone; {} has nothing to do",
                  cfg.name, env.describe());
      return RunResult{cfg.output_dir, false, {}};
    }
  } else if (env.distributed()) {
    const std::string job = cfg.resolved + "\nresume=" + std::to_string(opts.resume) +
                            "\nstop_after_steps=" + std::to_string(opts.stop_after_steps);
    if (env.rank != 0) spdlog::set_level(spdlog::level::warn);  // rank 0 alone logs
    ranks = detail::RankGroup::join(env, models::resolve_device(cfg.train.device).is_cuda(),
                                    fs::hex64(fs::fnv1a64(job.data(), job.size())));
  }
  const bool root = ranks == nullptr || ranks->root();
  HP_LOG_INFO("experiment {} ({}), run folder {}:\n{}", cfg.name, opts.experiment.string(),
              cfg.output_dir.string(), cfg.resolved);
  std::optional<fs::Lock> lock;
  if (root) {
    // one process per run folder; what a killed one left half-written goes
    std::filesystem::create_directories(cfg.output_dir);
    lock.emplace(cfg.output_dir / fs::kLockName, "run folder '" + cfg.output_dir.string() + "'");
    if (const int n = fs::remove_temporaries(cfg.output_dir); n > 0) {
      HP_LOG_INFO("{}: removed {} temporary file(s) of an interrupted write", cfg.name, n);
    }
  }
  // the dataset: prepared by every rank of a data-parallel job, each its part of the files
  std::filesystem::path shards =
      cfg.prepare_data(ranks != nullptr ? ranks->rendezvous().get() : nullptr);
  if (root) {
    // [train.augment.noise]: the prepared shards plus noisy copies of training chunks
    shards = noisy_training_shards(cfg, shards);
    // a resumed run writes it once its checkpoint proved to fit the experiment
    if (!opts.resume || cfg.tabular()) {
      fs::write_text(cfg.output_dir / "experiment.toml", cfg.resolved);
    }
  }
  if (ranks != nullptr) {
    ranks->barrier("the noisy training copies made by rank 0");
    // the noisy copies rank 0 made (noise.json matches, so nothing is written again)
    if (!root) shards = noisy_training_shards(cfg, shards);
  }
  if (cfg.tabular()) return detail::run_tabular(cfg, shards);
  return models::out_of_memory_as_error(
      detail::out_of_memory_advice(opts.experiment, "training", cfg.train.batch_size) +
          " (the checkpoints of finished epochs stay in " + cfg.output_dir.string() + ")",
      [&] { return train_torch(cfg, shards, opts, ranks.get()); });
}

nlohmann::json run_evaluate(const EvaluateOptions& opts) {
  auto cfg = detail::load_run(opts.run, opts.batch_size);
  if (opts.split != "test" && opts.split != "validation" && opts.split != "train") {
    throw ConfigError("--split '" + opts.split + "' is not one of: test, validation, train");
  }
  std::string out_name = "eval-" + opts.split;
  if (!opts.dataset.empty()) {
    cfg.dataset = opts.dataset;
    cfg.shards.clear();
    out_name += "-" + opts.dataset.parent_path().filename().string();
  }
  const auto out = opts.run / out_name;
  const fs::Lock lock(opts.run / fs::kLockName, "run folder '" + opts.run.string() + "'");
  const data::ShardDataset ds(cfg.prepare_data(), opts.split);
  const auto tasks = detail::resolve_tasks(cfg, ds);
  detail::Probabilities result;
  std::string device_name = "cpu";
  std::function<void(nlohmann::json&)> verify;  // the speaker task's EER (neural runs)
  if (cfg.tabular()) {
    result = detail::evaluate_tabular(opts.run, cfg, ds);
  } else {
    std::string fingerprint;
    const auto classes = detail::read_run_classes(opts.run, cfg, tasks, &fingerprint);
    check_classes(classes, ds, opts.run);
    std::vector<std::string> heads;  // the tasks in the order of the model's outputs
    for (const auto& [task, names] : classes) heads.push_back(task);
    const auto in = data::parse_input(cfg.input);
    const torch::Device device = models::resolve_device(cfg.train.device);
    configure_torch(cfg.train, device);
    device_name = describe(device);
    auto net = detail::load_best(opts.run, cfg, ds.example_shape(in)[0], heads,
                                 class_counts(classes), device, fingerprint);
    result = models::out_of_memory_as_error(
        detail::out_of_memory_advice(opts.run, "evaluating", cfg.train.batch_size),
        [&] { return predict(net, ds, in, heads, cfg.train, device).probabilities; });
    verify = [=, &ds, &cfg](nlohmann::json& j) mutable {
      speakers::add_verification(out / "metrics.json", j, net, device, ds, in, cfg, heads);
    };
  }
  auto header = detail::run_header(cfg, opts.split, device_name);
  header["run"] = opts.run.string();
  std::filesystem::create_directories(out);
  auto j = detail::write_results(out, header, ds, result);
  if (verify) verify(j);
  HP_LOG_INFO("evaluated {} on {} ({}): written to {}", opts.run.string(), opts.split,
              cfg.dataset.string(), out.string());
  return j;
}

}  // namespace hptrain::train
