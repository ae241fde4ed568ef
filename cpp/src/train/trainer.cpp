// The LibTorch path of a run (CNN / LSTM): training loop with prefetched batches, augmentation,
// schedules, checkpoints and exact resume, early stopping, evaluation; and run_experiment /
// run_evaluate, which dispatch to the tabular path for SVM / RF.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/device.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/models/net.h"
#include "hptrain/models/pretrained.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/progress.h"
#include "hptrain/train/augment.h"
#include "hptrain/train/device_queue.h"
#include "train/run_common.h"
#include "train/torch_run.h"

namespace hptrain::train {
namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// ---- Ctrl-C: the handler only raises a flag; the loop checkpoints and returns --------------
std::atomic<bool> g_stop{false};
void on_sigint(int) {
  g_stop.store(true);
}

class SigintHandler {
 public:
  SigintHandler() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintHandler() { sigaction(SIGINT, &old_, nullptr); }
  SigintHandler(const SigintHandler&) = delete;
  SigintHandler& operator=(const SigintHandler&) = delete;

 private:
  struct sigaction old_ {};
};

// ---- the state a checkpoint carries besides weights and optimiser ---------------------------
struct State {
  int epoch = 0;              // completed epochs
  int64_t step_in_epoch = 0;  // batches done in the current (interrupted) epoch
  int64_t global_step = 0;    // optimiser steps so far (the schedule's position)
  double loss_sum = 0;        // training loss of the current epoch so far (sum over examples)
  int64_t seen = 0;           // examples of the current epoch so far
  double best_score = -1;     // best validation macro-F1 (mean over tasks)
  double best_loss = std::numeric_limits<double>::infinity();  // its validation loss
  int best_epoch = 0;
  int bad_epochs = 0;  // epochs since the best
  double train_seconds = 0;
  bool finished = false;                             // all epochs done or stopped early
  std::string data;                                  // fingerprint of the training shards
  nlohmann::json history = nlohmann::json::array();  // one object per epoch (log.csv rows)

  nlohmann::json to_json() const {
    return {{"epoch", epoch},
            {"step_in_epoch", step_in_epoch},
            {"global_step", global_step},
            {"loss_sum", loss_sum},
            {"seen", seen},
            {"best_score", best_score},
            {"best_loss", best_loss},
            {"best_epoch", best_epoch},
            {"bad_epochs", bad_epochs},
            {"train_seconds", train_seconds},
            {"finished", finished},
            {"history", history},
            {"data", data}};
  }
  // JSON has no infinity or NaN: nlohmann writes them as null (best_loss before the first
  // epoch ends is infinite, a diverged loss NaN), read back here as `if_null`
  static double number(const nlohmann::json& j, const char* key, double if_null) {
    const auto& v = j.at(key);
    return v.is_null() ? if_null : v.get<double>();
  }
  static State from_json(const nlohmann::json& j) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    State s;
    s.epoch = j.at("epoch");
    s.step_in_epoch = j.at("step_in_epoch");
    s.global_step = j.at("global_step");
    s.loss_sum = number(j, "loss_sum", std::numeric_limits<double>::quiet_NaN());
    s.seen = j.at("seen");
    s.best_score = number(j, "best_score", -1);
    // checkpoints written before the tie-break had no best_loss: any loss breaks a tie then
    s.best_loss = j.contains("best_loss") ? number(j, "best_loss", inf) : inf;
    s.best_epoch = j.at("best_epoch");
    s.bad_epochs = j.at("bad_epochs");
    s.train_seconds = number(j, "train_seconds", 0);
    s.finished = j.at("finished");
    s.history = j.at("history");
    s.data = j.at("data");
    return s;
  }
};

torch::Tensor cpu_rng_state() {
  auto g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

// A checkpoint file: LibTorch's archive, then kChecksumTag and 16 hex digits of the FNV-1a
// checksum of the archive's bytes, so that damage anywhere is an error, not other weights.
constexpr char kChecksumTag[] = "\nhptrain-fnv1a64 ";
constexpr size_t kTagSize = sizeof kChecksumTag - 1, kTrailerSize = kTagSize + 16;

// Weights, plus optimiser, state and RNG when `optimizer` is given (checkpoint_last.pt), and the
// run's fingerprint; the archive is made in memory and written with the OS's reason on failure.
void save_checkpoint(const std::filesystem::path& path, models::Net& net,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     const State* state) {
  torch::serialize::OutputArchive archive, model;
  net->save(model);
  archive.write("model", model);
  archive.write("fingerprint", c10::IValue(fingerprint));
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optim;
    optimizer->save(optim);
    archive.write("optimizer", optim);
    archive.write("state", c10::IValue(state->to_json().dump()));
    archive.write("rng_cpu", cpu_rng_state());
  }
  std::string bytes;
  archive.save_to([&bytes](const void* p, size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return n;
  });
  bytes += kChecksumTag + fs::hex64(fs::fnv1a64(bytes.data(), bytes.size()));
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    fs::write_bytes(tmp, bytes.data(), bytes.size(), path);
  });
}

// Reads a checkpoint of the run whose fingerprint is `fingerprint` into `net` (strictly: the
// same keys and shapes), and optimiser, state and RNG when `optimizer` is given. InputError
// naming the file when it is damaged (checksum), of another run or model, or does not fit.
void load_checkpoint(const std::filesystem::path& path, models::Net& net, torch::Device device,
                     const std::string& fingerprint, torch::optim::Optimizer* optimizer,
                     State* state) {
  if (!std::filesystem::exists(path)) {
    throw InputError("cannot read checkpoint '" + path.string() + "': no such file");
  }
  const std::string bytes = fs::read_bytes(path);
  const std::string where = "checkpoint '" + path.string() + "'";
  if (bytes.size() < kTrailerSize ||
      bytes.compare(bytes.size() - kTrailerSize, kTagSize, kChecksumTag) != 0) {
    throw InputError(where +
                     " has no checksum at its end: truncated, damaged, or not written by this "
                     "version of hptrain");
  }
  const size_t n = bytes.size() - kTrailerSize;
  if (fs::hex64(fs::fnv1a64(bytes.data(), n)) != bytes.substr(n + kTagSize)) {
    throw InputError(where + " is damaged: its checksum does not match its contents");
  }
  torch::serialize::InputArchive archive, model;
  try {
    archive.load_from(bytes.data(), n, device);
  } catch (const c10::Error& e) {
    throw InputError(where + " cannot be read: " + e.what_without_backtrace());
  }
  c10::IValue fp;
  if (!archive.try_read("fingerprint", fp) || !fp.isString()) {
    throw InputError(where + " has no fingerprint: written by an older hptrain; train again");
  }
  if (fp.toStringRef() != fingerprint) {
    throw InputError(where + " is of another model or classes (fingerprint " + fp.toStringRef() +
                     ", the run's " + fingerprint +
                     "): [model], data.input or the classes changed since it was written");
  }
  try {
    if (!archive.try_read("model", model)) throw InputError("no model in it");
    models::load_strict(*net, model);
  } catch (const c10::Error& e) {
    throw InputError(where + " does not fit the experiment's model: " + e.what_without_backtrace());
  } catch (const InputError& e) {
    throw InputError(where + " does not fit the experiment's model: " + e.what());
  }
  if (optimizer != nullptr) {
    try {
      torch::serialize::InputArchive optim;
      archive.read("optimizer", optim);
      optimizer->load(optim);
      c10::IValue s;
      archive.read("state", s);
      *state = State::from_json(nlohmann::json::parse(s.toStringRef()));
      torch::Tensor rng;
      archive.read("rng_cpu", rng);
      set_cpu_rng_state(rng.cpu());
    } catch (const c10::Error& e) {
      throw InputError(where + ": its optimiser or training state cannot be read: " +
                       e.what_without_backtrace());
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": its training state cannot be read: " + e.what());
    }
  }
}

// ---- optimiser and schedule -----------------------------------------------------------------
// `params`: the groups of models::parameter_groups (the second, a pretrained encoder's, if any)
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const TrainConfig& t, const std::vector<torch::optim::OptimizerParamGroup>& params) {
  if (t.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(t.lr)
                                                         .momentum(t.momentum)
                                                         .nesterov(true)
                                                         .weight_decay(t.weight_decay));
}

// Learning rate of optimiser step `step`: linear warm-up, then cosine to 0, step decay or flat.
double lr_at(const TrainConfig& t, int64_t step, int64_t steps_per_epoch) {
  const int64_t warm = static_cast<int64_t>(t.warmup_epochs) * steps_per_epoch;
  if (step < warm) return t.lr * static_cast<double>(step + 1) / static_cast<double>(warm);
  if (t.schedule == "step") {
    return t.lr * std::pow(t.gamma, static_cast<double>(step / steps_per_epoch / t.step_size));
  }
  if (t.schedule == "cosine") {
    const int64_t total = static_cast<int64_t>(t.epochs) * steps_per_epoch;
    const double p =
        static_cast<double>(step - warm) / static_cast<double>(std::max<int64_t>(1, total - warm));
    return t.lr * 0.5 * (1.0 + std::cos(M_PI * std::min(p, 1.0)));
  }
  return t.lr;
}

// ---- batches --------------------------------------------------------------------------------
// The reader's stage for batches bound for `device`: on CUDA a page-locked copy of the values,
// made on the reader's thread, so that the copy to the device (which the loop waits for) runs
// at the bus's speed instead of through the driver's pageable staging. Nothing on the CPU.
data::Prefetcher::Stage stage_for(torch::Device device) {
  if (!device.is_cuda()) return {};
  return [](data::Batch& b) {
    auto host = torch::empty(b.shape, torch::TensorOptions(torch::kFloat32).pinned_memory(true));
    std::memcpy(host.data_ptr<float>(), b.x.data(), b.x.size() * sizeof(float));
    b.staged = std::make_shared<torch::Tensor>(std::move(host));
  };
}

// The batch's values as a tensor of its own (the reader reuses b.x) with `options` (device,
// dtype): one copy, from the staged page-locked values where there are some, then queued
// without waiting for it (the staged block is not reused before the copy is done).
torch::Tensor batch_tensor(data::Batch& b, const torch::TensorOptions& options) {
  const bool staged = b.staged != nullptr;
  const auto host = staged ? *std::static_pointer_cast<torch::Tensor>(b.staged)
                           : torch::from_blob(b.x.data(), b.shape, torch::kFloat32);
  return host.to(options, /*non_blocking=*/staged, /*copy=*/true);
}

// ---- evaluation -----------------------------------------------------------------------------
struct Predictions {
  std::map<std::string, metrics::TaskMetrics> tasks;
  double loss = 0;  // mean cross-entropy over examples and tasks
};

Predictions predict(models::Net& net, const data::ShardDataset& ds, data::Input in,
                    const std::vector<std::string>& tasks, const TrainConfig& t,
                    torch::Device device) {
  torch::NoGradGuard no_grad;
  net->eval();
  // probabilities and the loss stay on the device until the last batch (no wait per batch);
  // the loss in float64, each batch's float32 sum added in order, as a host sum would
  std::vector<std::vector<torch::Tensor>> probs(tasks.size());
  std::vector<std::vector<int64_t>> labels(tasks.size());
  torch::Tensor loss = torch::zeros({}, torch::TensorOptions(torch::kFloat64).device(device));
  data::Prefetcher reader(ds, in, t.batch_size, false, 0, t.prefetch, stage_for(device));
  data::Batch b;
  while (reader.next(b)) {
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
      labels[k].insert(labels[k].end(), y.begin(), y.end());
    }
  }
  Predictions out;
  for (size_t k = 0; k < tasks.size(); ++k) {
    std::vector<float> p;
    if (!probs[k].empty()) {
      const auto all = torch::cat(probs[k]).cpu().contiguous();
      p.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    }
    out.tasks[tasks[k]] = metrics::evaluate(labels[k], p, ds.classes(tasks[k]));
  }
  out.loss = loss.item<double>() / static_cast<double>(std::max<int64_t>(
                                       1, ds.size() * static_cast<int64_t>(tasks.size())));
  return out;
}

}  // namespace

// ---- set-up shared by training, evaluation and prediction -----------------------------------
namespace detail {

void configure_torch(const TrainConfig& t, torch::Device device) {
  const int threads = t.threads > 0
                          ? t.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);
  } else if (t.deterministic) {
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
  }
}

std::string describe(torch::Device device) {
  if (device.is_cuda()) {
    return gpu_available() ? device_description(device.has_index() ? device.index() : 0)
                           : device.str();
  }
  return cpu_description(torch::get_num_threads());
}

std::string out_of_memory_advice(const std::filesystem::path& where, const std::string& doing,
                                 int64_t batch_size) {
  const std::string b = std::to_string(batch_size);
  const std::string half = std::to_string(std::max<int64_t>(1, batch_size / 2));
  const std::string head = where.string() + ": the device ran out of memory " + doing;
  if (doing == "training") {
    return head + " with train.batch_size = " + b +
           ": lower it, for example --set train.batch_size=" + half;
  }
  return head + " in batches of " + b + ": lower them, for example --batch-size " + half;
}

models::Net load_best(const std::filesystem::path& run, const ExperimentConfig& cfg, int64_t rows,
                      const std::vector<std::string>& tasks, const std::vector<int64_t>& classes,
                      torch::Device device, const std::string& fingerprint) {
  models::Net net(cfg.model, rows, classes, tasks);
  net->to(device);
  load_checkpoint(run / "model_best.pt", net, device, fingerprint, nullptr, nullptr);
  net->eval();
  return net;
}

}  // namespace detail

namespace {

using detail::configure_torch;
using detail::describe;

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

// Per-row mean and standard deviation of the training inputs over examples and frames.
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

void write_log_csv(const std::filesystem::path& path, const std::vector<std::string>& tasks,
                   const nlohmann::json& history) {
  std::vector<std::string> cols = {"epoch", "lr", "train_loss", "val_loss", "val_f1_macro"};
  for (const auto& t : tasks) {
    cols.push_back("val_accuracy_" + t);
    cols.push_back("val_f1_" + t);
  }
  cols.push_back("examples_per_s");
  cols.push_back("data_wait");
  cols.push_back("seconds");
  std::ostringstream os;
  for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << cols[i];
  os << '\n';
  for (const auto& row : history) {
    for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << row.at(cols[i]).dump();
    os << '\n';
  }
  fs::write_text(path, os.str());
}

void plot_history(const std::filesystem::path& png, const std::string& name,
                  const std::vector<std::string>& tasks, const nlohmann::json& history) {
  std::vector<double> epochs;
  std::vector<metrics::Series> losses{{"train loss", {}}, {"validation loss", {}}};
  std::vector<metrics::Series> scores{{"validation macro-F1 (mean)", {}}};
  for (const auto& t : tasks) scores.push_back({"validation F1 " + t, {}});
  for (const auto& row : history) {
    epochs.push_back(row.at("epoch"));
    losses[0].y.push_back(row.at("train_loss"));
    losses[1].y.push_back(row.at("val_loss"));
    scores[0].y.push_back(row.at("val_f1_macro"));
    for (size_t k = 0; k < tasks.size(); ++k)
      scores[k + 1].y.push_back(row.at("val_f1_" + tasks[k]));
  }
  metrics::plot_training_curves(png, epochs, losses, scores, name + ": training");
}

// The progress bar's status while training: the epoch's mean loss so far and the learning rate.
std::string step_status(double mean_loss, double lr) {
  char s[64];
  std::snprintf(s, sizeof s, "loss %.4f lr %.2e", mean_loss, lr);
  return s;
}

// ---- the training run -----------------------------------------------------------------------
RunResult train_torch(const ExperimentConfig& cfg, const std::filesystem::path& shards,
                      const RunOptions& opts) {
  const auto in = data::parse_input(cfg.input);
  const data::ShardDataset train(shards, "train");
  const data::ShardDataset validation(shards, "validation");
  const data::ShardDataset test(shards, "test");
  const auto tasks = detail::resolve_tasks(cfg, train);
  const TrainConfig& t = cfg.train;
  const torch::Device device = models::resolve_device(t.device);
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
    fs::write_text(dir / "experiment.toml", cfg.resolved);
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
    for (const auto& old : {last, best}) std::filesystem::remove(old, ignore);
    if (cfg.model.type != "pretrained") fit_normalization(net, train, in, t.prefetch);
    detail::write_run_files(dir, cfg, classes);
  }
  HP_LOG_INFO("{}: {} ({} parameters) on {}, {} train / {} validation / {} test examples of {}",
              cfg.name, cfg.model.type, parameters, device_name, train.size(), validation.size(),
              test.size(), cfg.input);

  const auto weights = class_weights(train, tasks, t, device);
  const int64_t steps_per_epoch = (train.size() + t.batch_size - 1) / t.batch_size;
  const bool bf16 = device.is_cuda() && t.mixed_precision;
  SigintHandler sigint;
  while (!st.finished && st.epoch < t.epochs) {
    const auto epoch_start = Clock::now();
    models::set_encoder_trainable(*net, st.epoch >= cfg.model.freeze_epochs);
    data::Prefetcher reader(train, in, t.batch_size, true,
                            cfg.seed * 1000003ull + static_cast<uint64_t>(st.epoch), t.prefetch,
                            stage_for(device));
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
      {
        models::AutocastGuard autocast(bf16);
        logits = net->forward(x, targets);
      }
      torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(device));
      for (size_t k = 0; k < tasks.size(); ++k) {
        loss = loss + F::cross_entropy(logits[k].to(torch::kFloat32), targets[k],
                                       F::CrossEntropyFuncOptions().weight(weights[k]));
      }
      loss = loss / static_cast<double>(tasks.size());
      optimizer->zero_grad();
      loss.backward();
      if (t.grad_clip > 0) clip_grad_norm(net->parameters(), t.grad_clip);
      optimizer->step();

      const auto n = static_cast<int64_t>(b.indices.size());
      loss_sum.add(loss, n);
      st.seen += n;
      ++st.step_in_epoch;
      ++st.global_step;
      bar.advance(static_cast<size_t>(n),
                  step_status(loss_sum.mean(std::chrono::milliseconds(500)), lr));
      if (g_stop.load() || (opts.stop_after_steps > 0 && st.global_step >= opts.stop_after_steps)) {
        st.loss_sum = loss_sum.value();
        st.train_seconds += seconds_since(epoch_start);
        save_checkpoint(last, net, fingerprint, optimizer.get(), &st);
        HP_LOG_WARN("{}: interrupted in epoch {} after step {}: saved {}; continue with --resume",
                    cfg.name, st.epoch + 1, st.step_in_epoch, last.string());
        return RunResult{dir, true, {}};
      }
    }
    st.loss_sum = loss_sum.value();  // the device done with the epoch's steps
    const double train_s = seconds_since(epoch_start);
    // the epoch's exact mean, not the bar's last (up to half a second old)
    bar.finish(step_status(st.loss_sum / static_cast<double>(std::max<int64_t>(1, st.seen)), lr));

    const auto val = predict(net, validation, in, tasks, t, device);
    std::vector<metrics::TaskMetrics> val_tasks;
    for (const auto& [name, m] : val.tasks) val_tasks.push_back(m);
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
      row["val_accuracy_" + task] = val.tasks.at(task).accuracy;
      row["val_f1_" + task] = val.tasks.at(task).f1_macro;
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
      save_checkpoint(best, net, fingerprint, nullptr, nullptr);
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
    write_log_csv(dir / "log.csv", tasks, st.history);
    save_checkpoint(last, net, fingerprint, optimizer.get(), &st);
    if (g_stop.load()) {
      HP_LOG_WARN("{}: interrupted after epoch {}; continue with --resume", cfg.name, st.epoch);
      return RunResult{dir, true, {}};
    }
  }

  plot_history(dir / "training_curves.png", cfg.name, tasks, st.history);
  load_checkpoint(best, net, device, fingerprint, nullptr, nullptr);
  const auto result = predict(net, test, in, tasks, t, device);
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
  r.metrics = detail::write_results(dir, header, result.tasks);
  for (const auto& [task, m] : result.tasks) {
    HP_LOG_INFO("{}: test {}: accuracy {:.4f}, macro-F1 {:.4f}, ROC-AUC {}", cfg.name, task,
                m.accuracy, m.f1_macro, m.roc_auc ? std::to_string(*m.roc_auc) : "n/a");
  }
  return r;
}

}  // namespace

RunResult run_experiment(const RunOptions& opts) {
  const auto cfg = load_experiment(opts.experiment, opts.overrides);
  HP_LOG_INFO("experiment {} ({}), run folder {}:\n{}", cfg.name, opts.experiment.string(),
              cfg.output_dir.string(), cfg.resolved);
  // one process per run folder; what a killed one left half-written goes
  std::filesystem::create_directories(cfg.output_dir);
  const fs::Lock lock(cfg.output_dir / fs::kLockName,
                      "run folder '" + cfg.output_dir.string() + "'");
  if (const int n = fs::remove_temporaries(cfg.output_dir); n > 0) {
    HP_LOG_INFO("{}: removed {} temporary file(s) of an interrupted write", cfg.name, n);
  }
  const auto shards = cfg.prepare_data();
  // a resumed run writes it once its checkpoint proved to fit the experiment
  if (!opts.resume || cfg.tabular()) {
    fs::write_text(cfg.output_dir / "experiment.toml", cfg.resolved);
  }
  if (cfg.tabular()) return detail::run_tabular(cfg, shards);
  return models::out_of_memory_as_error(
      detail::out_of_memory_advice(opts.experiment, "training", cfg.train.batch_size) +
          " (the checkpoints of finished epochs stay in " + cfg.output_dir.string() + ")",
      [&] { return train_torch(cfg, shards, opts); });
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
  std::map<std::string, metrics::TaskMetrics> result;
  std::string device_name = "cpu";
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
        [&] { return predict(net, ds, in, heads, cfg.train, device).tasks; });
  }
  auto header = detail::run_header(cfg, opts.split, device_name);
  header["run"] = opts.run.string();
  std::filesystem::create_directories(out);
  auto j = detail::write_results(out, header, result);
  HP_LOG_INFO("evaluated {} on {} ({}): written to {}", opts.run.string(), opts.split,
              cfg.dataset.string(), out.string());
  return j;
}

}  // namespace hptrain::train
