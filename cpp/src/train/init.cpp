#include "hptrain/train/init.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/models/ge2e.h"
#include "hptrain/models/torch_device.h"
#include "train/run_common.h"
#include "train/torch_run.h"

namespace hptrain::train {
namespace {

// Whether the tensor named `key` of the Net (named_parameters / named_buffers, recursive) belongs
// to one of `parts`: the backbone is the input normalisation and the body, the heads are the
// task heads (head<t>.*).
bool in_parts(const std::string& key, const std::set<std::string>& parts) {
  const bool head = key.rfind("head", 0) == 0;
  return parts.count("all") != 0 || parts.count(head ? "heads" : "backbone") != 0;
}

// Every tensor of a module by its full name: parameters and buffers together.
std::map<std::string, torch::Tensor> named_tensors(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace(p.key(), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/true)) out.emplace(b.key(), b.value());
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// How a dataset's [features] differ from resemblyzer's front end, whose mel its weights were
// trained on. ref: resemblyzer/audio.py wav_to_mel_spectrogram: librosa.feature.melspectrogram(
// sr=16000, n_fft=400, hop_length=160, n_mels=40) (window 400 hann, centred, power 2, Slaney);
// the body undoes power_to_db with ref 1 and no top_db.
std::vector<std::string> ge2e_front_end_differences(const features::FeatureConfig& f) {
  std::vector<std::string> d;
  const auto want = [&d](bool ok, const std::string& what) {
    if (!ok) d.push_back(what);
  };
  want(f.sr == 16000, "sr = 16000");
  want(f.stft.n_fft == 400 && f.stft.win() == 400, "stft.n_fft = 400 (win_length 400)");
  want(f.stft.hop() == 160, "stft.hop_length = 160");
  want(f.stft.window == "hann" && f.stft.center, "stft.window = \"hann\", center = true");
  want(f.mel.n_mels == 40 && f.mel.fmin == 0 && f.mel.fmax_or(f.sr) == f.sr / 2.0,
       "mel.n_mels = 40 (fmin 0, fmax sr/2)");
  want(!f.mel.htk && f.mel.norm == std::optional<std::string>("slaney") && f.mel.power == 2.0,
       "mel.htk = false, norm = \"slaney\", power = 2");
  want(f.db.ref == 1.0 && !f.db.top_db, "db.ref = 1.0, top_db = \"none\"");
  return d;
}

// model.weights: resemblyzer's encoder into the ge2e body.
void load_weights(const ExperimentConfig& cfg, models::Net& net) {
  const auto& m = cfg.model;
  if (m.type == "torchscript") return;  // read when the model was built
  auto body = std::dynamic_pointer_cast<models::Ge2eBodyImpl>(net->named_children()["body"]);
  if (body == nullptr) throw ConfigError(cfg.file.string() + ": model.weights needs type ge2e");
  const int64_t n = models::load_ge2e_weights(*body, m.weights);
  HP_LOG_INFO("{}: model.weights = '{}': {} tensors of the GE2E encoder", cfg.file.string(),
              m.weights, n);
  if (!cfg.dataset.empty()) {
    const auto diff = ge2e_front_end_differences(data::load_dataset_config(cfg.dataset).features);
    if (!diff.empty()) {
      HP_LOG_WARN(
          "{}: the dataset's [features] are not the front end resemblyzer's weights were "
          "trained on: want {}",
          cfg.dataset.string(), join(diff));
    }
  }
}

}  // namespace

void init_from_run(const ExperimentConfig& cfg,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& classes,
                   models::Net& net) {
  const auto& m = cfg.model;
  if (!m.weights.empty()) load_weights(cfg, net);
  if (m.init.empty()) return;
  const std::filesystem::path run = m.init;
  const std::string where = cfg.file.string() + ": model.init = '" + m.init + "'";
  if (!std::filesystem::is_directory(run)) {
    throw ConfigError(where + ": no such run folder");
  }
  ExperimentConfig src;
  try {
    src = detail::load_run(run);
  } catch (const Error& e) {
    throw InputError(where + ": " + e.what());
  }
  if (src.tabular()) {
    throw InputError(where + ": that run is a " + src.model.type +
                     " (a baseline on pooled statistics): it has no network weights to start from");
  }
  if (src.model.type != m.type) {
    throw InputError(where + ": that run is a " + src.model.type +
                     ", this experiment's model is a " + m.type +
                     ": weights pass only between models of the same type");
  }
  if (src.input != cfg.input) {
    throw InputError(where + ": that run was trained on data.input = \"" + src.input +
                     "\", this experiment reads \"" + cfg.input + "\"");
  }
  // the other run's tasks in the order of its outputs (run.json), then its classes, checked
  // against its own fingerprint as evaluate checks them
  std::vector<std::string> src_tasks;
  try {
    src_tasks = nlohmann::json::parse(fs::read_text(run / "run.json"))
                    .at("tasks")
                    .get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw InputError(where + ": '" + (run / "run.json").string() +
                     "' is missing or damaged (no list of tasks): " + e.what());
  }
  std::string fingerprint;
  detail::RunClasses src_classes;
  std::vector<int64_t> src_counts;
  try {
    src_classes = detail::read_run_classes(run, src, src_tasks, &fingerprint);
  } catch (const Error& e) {
    throw InputError(where + ": " + e.what());
  }
  for (const auto& [task, names] : src_classes) {
    src_counts.push_back(static_cast<int64_t>(names.size()));
  }
  const std::set<std::string> parts(m.init_parts.begin(), m.init_parts.end());
  if ((parts.count("heads") != 0 || parts.count("all") != 0) && src_classes != classes) {
    std::string mine, theirs;
    for (const auto& [t, c] : classes) mine += (mine.empty() ? "" : "; ") + t + ": " + join(c);
    for (const auto& [t, c] : src_classes) {
      theirs += (theirs.empty() ? "" : "; ") + t + ": " + join(c);
    }
    throw InputError(where + ": init_parts takes the heads, but that run's tasks and classes (" +
                     theirs + ") are not this experiment's (" + mine +
                     "): use init_parts = [\"backbone\"]");
  }

  const auto mine = named_tensors(*net);
  const torch::Device device = mine.begin()->second.device();
  const int64_t rows = net->named_buffers().find("input_mean")->size(1);
  models::Net other{nullptr};
  try {
    other = detail::load_best(run, src, rows, src_tasks, src_counts, device, fingerprint);
  } catch (const Error& e) {
    throw InputError(where + ": its weights do not load as a " + src.model.type + " on " +
                     std::to_string(rows) + " input rows (this experiment's): " + e.what());
  }
  const auto theirs = named_tensors(*other);
  const std::string in_run = " in run '" + run.string() + "'";
  int64_t copied = 0, values = 0;
  torch::NoGradGuard no_grad;
  for (const auto& [key, into] : mine) {
    if (!in_parts(key, parts)) continue;
    const auto it = theirs.find(key);
    if (it == theirs.end()) {
      throw InputError(where + ": " + key + ": in this experiment's model, not" + in_run);
    }
    const auto& from = it->second;
    if (from.sizes() != into.sizes() || from.scalar_type() != into.scalar_type()) {
      throw InputError(where + ": " + key + ": " + c10::str(from.scalar_type(), from.sizes()) +
                       in_run + ", " + c10::str(into.scalar_type(), into.sizes()) +
                       " in this experiment's model ([model] differs)");
    }
    into.copy_(from);
    ++copied;
    values += into.numel();
  }
  for (const auto& [key, from] : theirs) {
    if (in_parts(key, parts) && mine.count(key) == 0) {
      throw InputError(where + ": " + key + ":" + in_run + ", not in this experiment's model");
    }
  }
  if (!cfg.dataset.empty() && !src.dataset.empty()) {
    std::string now, then;
    try {  // a warning only: a dataset file that moved since says nothing about the weights
      now = detail::data_fingerprint(data::load_dataset_config(cfg.dataset));
      then = detail::data_fingerprint(data::load_dataset_config(src.dataset));
    } catch (const Error&) {
      now = then;
    }
    if (now != then) {
      HP_LOG_WARN(
          "{}: that run's data were prepared with other [preprocess] or [features]; "
          "its weights saw other inputs than this experiment's",
          where);
    }
  }
  HP_LOG_INFO("{}: started from its {} ({} tensors, {} values)", where, join(m.init_parts), copied,
              values);
}

}  // namespace hptrain::train
