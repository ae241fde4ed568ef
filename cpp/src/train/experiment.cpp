#include "hptrain/train/experiment.h"

#include <sstream>

#include "hptrain/baselines/classifier.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/noise.h"
#include "hptrain/device.h"
#include "hptrain/error.h"

namespace hptrain::train {
namespace {

void read_range(const config::Section& s, const char* key, std::vector<double>& out, double lo,
                double hi) {
  s.get(key, out);
  s.require(key, out.size() == 2 && out[0] <= out[1], "expected [min, max] with min <= max");
  s.require(key, out[0] >= lo && out[1] <= hi,
            "values must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

// [train.augment.noise] (also the only [train] table of an SVM / forest experiment)
void read_noise(const config::Section& noise, NoiseAugmentConfig& n) {
  noise.get("kinds", n.kinds);
  for (const auto& k : n.kinds) {
    try {
      data::parse_noise_kind(k);
    } catch (const ConfigError& e) {
      noise.require("kinds", false, e.what());
    }
  }
  read_range(noise, "snr_db", n.snr_db, data::kMinSnrDb, data::kMaxSnrDb);
  noise.get("probability", n.probability);
  noise.require("probability", n.probability >= 0 && n.probability <= 1, "must be in [0, 1]");
  noise.get("copies", n.copies);
  noise.require("copies", n.copies >= 1 && n.copies <= 64, "must be in [1, 64]");
}

void read_augment(const config::Section& s, AugmentConfig& a, const std::string& input) {
  s.get("enabled", a.enabled);
  s.get("freq_masks", a.freq_masks);
  s.require("freq_masks", a.freq_masks >= 0, "must be >= 0");
  s.get("freq_mask_width", a.freq_mask_width);
  s.require("freq_mask_width", a.freq_mask_width >= 1, "must be >= 1");
  s.get("time_masks", a.time_masks);
  s.require("time_masks", a.time_masks >= 0, "must be >= 0");
  s.get("time_mask_width", a.time_mask_width);
  s.require("time_mask_width", a.time_mask_width >= 1, "must be >= 1");
  s.get("noise_prob", a.noise_prob);
  s.require("noise_prob", a.noise_prob >= 0 && a.noise_prob <= 1, "must be in [0, 1]");
  read_range(s, "noise_snr_db", a.noise_snr_db, -20, 100);
  s.get("mix_prob", a.mix_prob);
  s.require("mix_prob", a.mix_prob >= 0 && a.mix_prob <= 1, "must be in [0, 1]");
  read_range(s, "mix_gain_db", a.mix_gain_db, -80, 0);
  read_noise(s.section("noise"), a.noise);
  if (a.enabled && input != "log_mel") {
    // noise and mixing add power: they need a dB spectrogram
    s.require("noise_prob", a.noise_prob == 0, "needs data.input = \"log_mel\" (set it to 0)");
    s.require("mix_prob", a.mix_prob == 0, "needs data.input = \"log_mel\" (set it to 0)");
  }
}

void read_train(const config::Section& s, TrainConfig& t, const std::string& input) {
  s.get("device", t.device);
  s.require("device", parse_device(t.device).has_value(),
            "'" + t.device + "' is not one of: auto, cpu, cuda, cuda:N");
  s.get("epochs", t.epochs);
  s.require("epochs", t.epochs >= 1, "must be >= 1");
  s.get("batch_size", t.batch_size);
  s.require("batch_size", t.batch_size >= 1, "must be >= 1");
  s.get_choice("optimizer", t.optimizer, {"adam", "adamw", "sgd"});
  s.get("lr", t.lr);
  s.require("lr", t.lr > 0 && t.lr < 10, "must be in (0, 10)");
  s.get("momentum", t.momentum);
  s.require("momentum", t.momentum >= 0 && t.momentum < 1, "must be in [0, 1)");
  s.get_choice("schedule", t.schedule, {"cosine", "step", "none"});
  s.get("step_size", t.step_size);
  s.require("step_size", t.step_size >= 1, "must be >= 1");
  s.get("gamma", t.gamma);
  s.require("gamma", t.gamma > 0 && t.gamma <= 1, "must be in (0, 1]");
  s.get("warmup_epochs", t.warmup_epochs);
  s.require("warmup_epochs", t.warmup_epochs >= 0 && t.warmup_epochs < t.epochs,
            "must be in [0, epochs)");
  s.get("weight_decay", t.weight_decay);
  s.require("weight_decay", t.weight_decay >= 0, "must be >= 0");
  s.get("grad_clip", t.grad_clip);
  s.require("grad_clip", t.grad_clip >= 0, "must be >= 0 (0 = off)");
  s.get("patience", t.patience);
  s.require("patience", t.patience >= 0, "must be >= 0 (0 = no early stopping)");
  s.get_choice("class_weighting", t.class_weighting, {"balanced", "none"});
  s.get("mixed_precision", t.mixed_precision);
  s.get("threads", t.threads);
  s.require("threads", t.threads >= 0, "must be >= 0 (0 = all cores)");
  s.get("deterministic", t.deterministic);
  s.get("prefetch", t.prefetch);
  s.require("prefetch", t.prefetch >= 1, "must be >= 1");
  read_augment(s.section("augment"), t.augment, input);
}

ExperimentConfig from_table(const toml::table& root, const std::filesystem::path& file) {
  ExperimentConfig cfg;
  cfg.file = file;
  const config::Section top(&root, file.string());

  const auto ex = top.section("experiment");
  cfg.name = file.stem().string();
  ex.get("name", cfg.name);
  ex.require("name",
             !cfg.name.empty() && cfg.name.find_first_of("/\\") == std::string::npos &&
                 cfg.name != "." && cfg.name != "..",
             "must be a non-empty folder name");
  int64_t seed = 0;
  ex.get("seed", seed);
  ex.require("seed", seed >= 0, "must be >= 0");
  cfg.seed = static_cast<uint64_t>(seed);
  ex.get("tasks", cfg.tasks);
  cfg.tasks_where = ex.where("tasks");

  const auto data = top.section("data");
  std::string dataset, shards;
  data.get("dataset", dataset);
  data.get("shards", shards);
  data.require(shards.empty() ? "dataset" : "shards", dataset.empty() != shards.empty(),
               "give exactly one of dataset (a dataset TOML) and shards (a prepared folder)");
  cfg.dataset = dataset;
  cfg.shards = shards;
  data.get_choice("input", cfg.input, {"log_mel", "mfcc", "stats", "waveform"});

  const auto model = top.section("model");
  std::string type = cfg.model.type;
  std::vector<std::string> types = models::kModelTypes;
  types.insert(types.end(), {"svm", "rf"});  // baselines::make_classifier's
  model.get_choice("type", type, types);
  if (type == "svm" || type == "rf") {
    baselines::make_classifier(model);  // reads and checks the baseline's keys
    cfg.model.type = type;
    data.require("input", cfg.input == "stats", "model.type = \"" + type + "\" needs \"stats\"");
  } else {
    models::from_toml(model, cfg.model);
    if (type == "pretrained") {
      data.require("input", cfg.input == "waveform",
                   "model.type = \"pretrained\" needs \"waveform\" (and store_audio = true under "
                   "[features] in the dataset file)");
    } else {
      data.require("input", cfg.input == "log_mel" || cfg.input == "mfcc",
                   "model.type = \"" + type + "\" needs \"log_mel\" or \"mfcc\"");
    }
  }

  if (!cfg.tabular()) {
    read_train(top.section("train"), cfg.train, cfg.input);
  } else if (top.has("train")) {  // SVM/RF: only [train.augment.noise]
    const auto train = top.section("train");
    const auto augment = train.section("augment");
    for (const auto& k : train.keys()) {
      train.require(k, k == "augment", "unknown key; SVM/RF read only [train.augment.noise]");
    }
    for (const auto& k : augment.keys()) {
      augment.require(k, k == "noise", "unknown key; SVM/RF read only [train.augment.noise]");
    }
    read_noise(augment.section("noise"), cfg.train.augment.noise);
  }

  const auto out = top.section("output");
  std::string dir = "runs/" + cfg.name;
  out.get("dir", dir);
  out.require("dir", !dir.empty(), "must not be empty");
  cfg.output_dir = dir;
  namespace sfs = std::filesystem;  // a new run removes its folder's weights before it starts
  model.require("init",
                cfg.model.init.empty() ||
                    sfs::weakly_canonical(cfg.model.init) != sfs::weakly_canonical(cfg.output_dir),
                "is this experiment's own output.dir: copy that run elsewhere first");

  top.check_unknown();
  std::ostringstream os;
  os << root;
  cfg.resolved = os.str() + "\n";
  return cfg;
}

}  // namespace

std::filesystem::path ExperimentConfig::prepare_data(data::Rendezvous* ranks) const {
  return shards.empty() ? data::ensure_prepared(dataset, ranks) : shards;
}

ExperimentConfig load_experiment(const std::filesystem::path& file,
                                 const std::vector<std::string>& overrides) {
  toml::table root = config::parse_file(file);
  for (const auto& o : overrides) config::apply_override(root, o);
  return from_table(root, file);
}

ExperimentConfig parse_experiment(const std::string& text, const std::filesystem::path& file) {
  try {
    return from_table(toml::parse(text, file.string()), file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
}

}  // namespace hptrain::train
