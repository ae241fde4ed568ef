#include "train/run_common.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <set>
#include <sstream>

#include "hptrain/csv.h"
#include "hptrain/error.h"
#include "hptrain/features/config.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/files.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::train::detail {

std::vector<std::string> resolve_tasks(const ExperimentConfig& cfg, const data::ShardDataset& ds) {
  if (cfg.tasks.empty()) return ds.tasks();
  for (const auto& t : cfg.tasks) {
    if (std::find(ds.tasks().begin(), ds.tasks().end(), t) == ds.tasks().end()) {
      std::string valid;
      for (const auto& v : ds.tasks()) valid += (valid.empty() ? "" : ", ") + v;
      throw ConfigError(cfg.tasks_where + ": '" + t +
                        "' is not a task of the dataset (tasks: " + valid + ")");
    }
  }
  return cfg.tasks;
}

ExperimentConfig load_run(const std::filesystem::path& run, int64_t batch_size) {
  if (batch_size < 0) {
    throw ConfigError("batch size " + std::to_string(batch_size) + " must be > 0");
  }
  const auto saved = run / "experiment.toml";
  if (!std::filesystem::exists(saved)) {
    throw InputError("'" + run.string() + "' is not a run folder: no experiment.toml");
  }
  auto cfg = parse_experiment(fs::read_text(saved), saved);
  if (batch_size > 0) cfg.train.batch_size = batch_size;
  return cfg;
}

RunClasses dataset_classes(const data::ShardDataset& ds, const std::vector<std::string>& tasks) {
  RunClasses out;
  for (const auto& t : tasks) out.emplace_back(t, ds.classes(t));
  return out;
}

// A new [model] key goes in here (only where it applies, or only when set away from its
// default, so that existing runs keep their values): fingerprint_test.cpp fails until it does.
std::string run_fingerprint(const ExperimentConfig& cfg, const RunClasses& classes) {
  const auto& m = cfg.model;
  std::ostringstream os;
  os << std::setprecision(17) << "model type=" << m.type << " dropout=" << m.dropout
     << " channels=";
  for (int c : m.channels) os << c << ",";
  os << " time_pooling=" << m.time_pooling << " hidden_size=" << m.hidden_size
     << " num_layers=" << m.num_layers << " bidirectional=" << m.bidirectional
     << " pooling=" << m.pooling << " frame_stride=" << m.frame_stride
     << " embedding_dim=" << m.embedding_dim << " res2net_scale=" << m.res2net_scale
     << " se_channels=" << m.se_channels << " attention_channels=" << m.attention_channels
     << " global_context=" << m.global_context << " loss=" << m.loss << " loss_task=" << m.loss_task
     << " margin=" << m.margin << " scale=" << m.scale << " easy_margin=" << m.easy_margin;
  // the keys of the later types only where they apply: the fingerprints of earlier runs stay
  if (m.type == "transformer") {
    os << " layers=" << m.layers << " d_model=" << m.d_model << " heads=" << m.heads
       << " ff_dim=" << m.ff_dim << " subsampling_channels=" << m.subsampling_channels;
  }
  if (m.type == "pretrained") os << " encoder_layer=" << m.encoder_layer;
  os << "\ninput " << cfg.input << "\n";
  for (const auto& [task, names] : classes) {
    os << "task " << task.size() << ":" << task;
    for (const auto& c : names) os << " " << c.size() << ":" << c;
    os << "\n";
  }
  const std::string text = os.str();
  return fs::hex64(fs::fnv1a64(text.data(), text.size()));
}

std::string data_fingerprint(const data::DatasetConfig& dataset) {
  preprocess::PreprocessConfig p = dataset.preprocess;
  p.stream = -1;  // predict --stream picks another track of the same kind of recording
  features::FeatureConfig f = dataset.features;
  f.threads = 0;  // how, not what
  std::ostringstream os;
  os << preprocess::to_string(p) << "\n" << f;
  const std::string text = os.str();
  return fs::hex64(fs::fnv1a64(text.data(), text.size()));
}

std::string write_run_files(const std::filesystem::path& dir, const ExperimentConfig& cfg,
                            const RunClasses& classes,
                            const std::vector<std::filesystem::path>& files) {
  nlohmann::json names = nlohmann::json::object(), order = nlohmann::json::array();
  for (const auto& [task, c] : classes) {
    names[task] = c;
    order.push_back(task);
  }
  fs::write_text(dir / "classes.json", names.dump(1) + "\n");
  const std::string fp = run_fingerprint(cfg, classes);
  nlohmann::json run = {{"fingerprint", fp},
                        {"tasks", order},
                        {"input", cfg.input},
                        {"model", cfg.model.type},
                        {"files", nlohmann::json::object()}};
  if (!cfg.dataset.empty()) run["data"] = data_fingerprint(data::load_dataset_config(cfg.dataset));
  for (const auto& f : files) {
    const std::string bytes = fs::read_bytes(f);
    run["files"][f.filename().string()] = fs::hex64(fs::fnv1a64(bytes.data(), bytes.size()));
  }
  fs::write_text(dir / "run.json", run.dump(1) + "\n");
  return fp;
}

namespace {

nlohmann::json read_json(const std::filesystem::path& path, const std::string& missing) {
  if (!std::filesystem::exists(path)) throw InputError("'" + path.string() + "': " + missing);
  try {
    return nlohmann::json::parse(fs::read_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError("'" + path.string() + "' is damaged (not JSON): " + e.what());
  }
}

nlohmann::json read_run_json(const std::filesystem::path& run) {
  const auto j = read_json(run / "run.json",
                           "missing (the run was trained by an older hptrain, or the folder is "
                           "incomplete): train it again");
  if (!j.is_object() || !j.contains("fingerprint") || !j["fingerprint"].is_string() ||
      !j.value("files", nlohmann::json::object()).is_object()) {
    throw InputError("'" + (run / "run.json").string() + "' is damaged: no fingerprint");
  }
  return j;
}

}  // namespace

RunClasses read_run_classes(const std::filesystem::path& run, const ExperimentConfig& cfg,
                            const std::vector<std::string>& tasks, std::string* fingerprint) {
  const auto path = run / "classes.json";
  const auto saved = read_json(path, "missing: train the run again");
  const auto run_json = read_run_json(run);
  const auto recorded = run_json.at("fingerprint").get<std::string>();
  // the model's outputs answer in the order the run recorded, whatever order a dataset lists
  // its tasks in; the same tasks, though
  std::vector<std::string> order;
  try {
    order = run_json.at("tasks").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw InputError("'" + (run / "run.json").string() + "' is damaged: no list of tasks");
  }
  if (std::set<std::string>(order.begin(), order.end()) !=
      std::set<std::string>(tasks.begin(), tasks.end())) {
    const auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& t : v) s += (s.empty() ? "" : ", ") + t;
      return s;
    };
    throw InputError("run '" + run.string() + "' was trained for the tasks " + list(order) +
                     ", not " + list(tasks));
  }
  RunClasses out;
  for (const auto& t : order) {
    if (!saved.is_object() || !saved.contains(t)) {
      throw InputError("'" + path.string() + "' has no task '" + t + "'");
    }
    const auto& c = saved.at(t);
    if (!c.is_array() || c.empty() ||
        !std::all_of(c.begin(), c.end(), [](const auto& v) { return v.is_string(); })) {
      throw InputError("'" + path.string() + "': task '" + t +
                       "' is not a non-empty list of class names");
    }
    out.emplace_back(t, c.get<std::vector<std::string>>());
  }
  const std::string fp = run_fingerprint(cfg, out);
  if (fp != recorded) {
    throw InputError("run '" + run.string() +
                     "': classes.json or experiment.toml ([model], data.input, tasks) is not "
                     "what the run was trained with (fingerprint " +
                     fp + ", run.json records " + recorded +
                     "): edited, reordered, or copied from another run");
  }
  if (fingerprint != nullptr) *fingerprint = fp;
  return out;
}

void check_data_settings(const std::filesystem::path& run, const data::DatasetConfig& dataset,
                         const std::filesystem::path& toml) {
  const auto j = read_run_json(run);
  if (!j.contains("data")) return;
  const std::string now = data_fingerprint(dataset);
  if (!j["data"].is_string() || j["data"].get<std::string>() != now) {
    throw InputError("'" + toml.string() + "': its [preprocess] or [features] changed since run '" +
                     run.string() + "' was trained (fingerprint " + now + ", run.json records " +
                     j["data"].dump() + "): restore them, or train again");
  }
}

void check_run_file(const std::filesystem::path& run, const std::string& name) {
  const auto j = read_run_json(run);
  const auto& files = j.at("files");
  if (!files.contains(name) || !files[name].is_string()) {
    throw InputError("'" + (run / name).string() + "': run.json records no checksum for it");
  }
  const std::string bytes = fs::read_bytes(run / name);
  if (fs::hex64(fs::fnv1a64(bytes.data(), bytes.size())) != files[name].get<std::string>()) {
    throw InputError("'" + (run / name).string() +
                     "' is damaged: its checksum is not the one run.json recorded");
  }
}

nlohmann::json run_header(const ExperimentConfig& cfg, const std::string& split,
                          const std::string& device) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"experiment", cfg.name},
          {"model", cfg.model.type},
          {"input", cfg.input},
          {"dataset", (cfg.shards.empty() ? cfg.dataset : cfg.shards).string()},
          {"split", split},
          {"device", device},
          {"seed", cfg.seed},
          {"created", when},
          {"hptrain_version", HP_VERSION}};
}

std::map<std::string, metrics::TaskMetrics> score(const data::ShardDataset& ds,
                                                  const Probabilities& probabilities) {
  std::map<std::string, metrics::TaskMetrics> out;
  for (const auto& [task, p] : probabilities)
    out[task] = metrics::evaluate(ds.labels(task), p, ds.classes(task));
  return out;
}

namespace {

void write_predictions_csv(const std::filesystem::path& file, const data::ShardDataset& ds,
                           const Probabilities& probabilities) {
  std::ostringstream os;
  os << "source,offset_s";
  for (const auto& [task, p] : probabilities) {
    os << "," << csv_field(task + "_true") << "," << csv_field(task);
    for (const auto& c : ds.classes(task)) os << "," << csv_field(task + ":" + c);
  }
  os << "\n" << std::fixed;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const auto e = static_cast<size_t>(i);
    os << csv_field(ds.sources()[e]) << "," << std::setprecision(3) << ds.offsets()[e];
    for (const auto& [task, p] : probabilities) {
      const auto& classes = ds.classes(task);
      const float* row = p.data() + e * classes.size();
      const auto best = static_cast<size_t>(std::max_element(row, row + classes.size()) - row);
      os << "," << csv_field(classes[static_cast<size_t>(ds.labels(task)[e])]) << ","
         << csv_field(classes[best]) << std::setprecision(6);
      for (size_t c = 0; c < classes.size(); ++c) os << "," << row[c];
    }
    os << "\n";
  }
  fs::write_text(file, os.str());
}

}  // namespace

nlohmann::json write_results(const std::filesystem::path& dir, nlohmann::json header,
                             const data::ShardDataset& ds, const Probabilities& probabilities) {
  const auto tasks = score(ds, probabilities);
  for (const auto& [task, m] : tasks) {
    metrics::write_confusion_csv(dir / ("confusion_" + task + ".csv"), m);
    metrics::write_roc_csv(dir / ("roc_" + task + ".csv"), m);
    const std::string title =
        header.value("experiment", "") + ": " + task + " (" + header.value("split", "") + ")";
    metrics::plot_confusion(dir / ("confusion_" + task + ".png"), m, title);
    metrics::plot_roc(dir / ("roc_" + task + ".png"), m, title);
  }
  write_predictions_csv(dir / "predictions.csv", ds, probabilities);
  metrics::write_metrics_json(dir / "metrics.json", header, tasks);
  return nlohmann::json::parse(fs::read_text(dir / "metrics.json"));
}

}  // namespace hptrain::train::detail
