// Reading the dataset TOML.
#include "hptrain/data/dataset_config.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/h5.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

void SplitPolicy::validate() const {
  for (double f : fractions()) {
    if (!(f >= 0 && f <= 1)) throw ConfigError("split fractions must lie in [0, 1]");
  }
  const double sum = train + validation + test;
  if (std::abs(sum - 1.0) > 1e-6) {
    throw ConfigError("split: train + validation + test = " + std::to_string(sum) + ": must be 1");
  }
  if (train <= 0) throw ConfigError("split.train = " + std::to_string(train) + ": must be > 0");
}

void DemoConfig::validate() const {
  if (!(minutes > 0))
    throw ConfigError("demo.minutes = " + std::to_string(minutes) + ": must be > 0");
  if (sr < 8000) throw ConfigError("demo.sr = " + std::to_string(sr) + ": must be >= 8000");
}

int DatasetConfig::task_index(const std::string& task) const {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].name == task) return static_cast<int>(i);
  }
  return -1;
}

void DatasetConfig::validate() const {
  if (tasks.empty()) throw ConfigError(file.string() + ": [tasks] must name at least one task");
  if (manifest.empty() && tasks.size() != 1) {
    throw ConfigError(
        file.string() +
        ": without a manifest (folder-per-class layout) there must be exactly one task");
  }
  if (shard_size <= 0) throw ConfigError(file.string() + ": shard_size must be > 0");
  if (feature_batch <= 0) throw ConfigError(file.string() + ": feature_batch must be > 0");
  if (!(min_coverage > 0 && min_coverage <= 1)) {
    throw ConfigError(file.string() + ": min_coverage must lie in (0, 1]");
  }
  if (!(min_foreground > 0 && min_foreground <= 1)) {
    throw ConfigError(file.string() + ": min_foreground must lie in (0, 1]");
  }
  if (!split.stratify.empty() && task_index(split.stratify) < 0) {
    throw ConfigError(file.string() + ": split.stratify = '" + split.stratify + "': no such task");
  }
  split.validate();
  preprocess.validate();
  features.validate();
  if (demo) demo->validate();
}

namespace {

// STFT frames of a chunk of `n` samples; 0 when it is too short for one.
int64_t frames_of(const features::FeatureConfig& f, int64_t n) {
  try {
    return n > 0 ? features::n_frames(f, n) : 0;
  } catch (const Error&) {
    return 0;
  }
}

// A chunk must give the frames the shards need: the MFCC deltas (and the statistics over them)
// take delta.width frames in librosa's mode "interp". Shorter chunks would fail in the middle of
// prepare (after split.csv) with a message about frames; here the key is named instead.
void check_chunk_frames(const DatasetConfig& cfg, const config::Section& ps) {
  const auto& f = cfg.features;
  const int64_t need = f.delta.mode == "interp" ? f.delta.width : 1;
  const int64_t samples = std::lround(cfg.preprocess.chunk_s * cfg.preprocess.sr);
  const int64_t got = frames_of(f, samples);
  if (got >= need) return;
  int64_t lo = samples, hi = samples;  // the shortest chunk that is long enough: in (lo, hi]
  while (frames_of(f, hi) < need) hi *= 2;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (frames_of(f, mid) >= need ? hi : lo) = mid;
  }
  std::ostringstream why;
  why << "a chunk of " << samples << " samples gives " << got << " feature frame(s) (features.stft"
      << " n_fft = " << f.stft.n_fft << ", hop_length = " << f.stft.hop() << "), fewer than the "
      << need << " that the MFCC deltas need (features.delta.width); chunk_s must be at least "
      << static_cast<double>(hi) / cfg.preprocess.sr << " s";
  ps.require("chunk_s", false, why.str());
}

}  // namespace

DatasetConfig dataset_config_from_toml(const toml::table& root, const stdfs::path& file) {
  const config::Section s(&root, file.string());
  DatasetConfig cfg;
  cfg.file = file;
  // a relative path is relative to the file that gives it (this one or its `base`); a default,
  // to this one
  auto resolve = [&](const char* key, const std::string& p) {
    const stdfs::path from = s.has(key) ? stdfs::path(s.file_of(key)) : file;
    const stdfs::path dir = from.has_parent_path() ? from.parent_path() : stdfs::path(".");
    return p.empty() ? stdfs::path() : (dir / p).lexically_normal();
  };
  cfg.name = file.stem().string();
  s.get("name", cfg.name);
  std::string audio_root = ".", manifest, output = "shards";
  s.get("audio_root", audio_root);
  s.get("manifest", manifest);
  s.get("output", output);
  s.get("allow_outside_root", cfg.allow_outside_root);
  cfg.audio_root = resolve("audio_root", audio_root);
  cfg.manifest = resolve("manifest", manifest);
  cfg.output = resolve("output", output);
  s.get("shard_size", cfg.shard_size);
  s.get("feature_batch", cfg.feature_batch);
  s.get("compression", cfg.compression);
  h5::Compression::parse(cfg.compression, file.string() + ": compression");
  s.get("min_coverage", cfg.min_coverage);
  s.get("min_foreground", cfg.min_foreground);
  s.require("shard_size", cfg.shard_size > 0, "must be > 0");
  s.require("feature_batch", cfg.feature_batch > 0, "must be > 0");
  s.require("min_coverage", cfg.min_coverage > 0 && cfg.min_coverage <= 1, "must lie in (0, 1]");
  s.require("min_foreground", cfg.min_foreground > 0 && cfg.min_foreground <= 1,
            "must lie in (0, 1]");

  const auto tasks = s.section("tasks");
  for (const auto& name : tasks.keys()) {
    Task t{name, {}, {}};
    tasks.get(name, t.classes);
    std::vector<std::string> sorted = t.classes;
    std::sort(sorted.begin(), sorted.end());
    tasks.require(name, std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
                  "a class is listed twice");
    for (const auto& c : t.classes) tasks.require(name, !c.empty(), "empty class name");
    cfg.tasks.push_back(std::move(t));
  }
  s.require("tasks", !cfg.tasks.empty(), "at least one task (a [tasks] key) is required");
  if (s.has("background")) {
    const auto bg = s.section("background");
    for (const auto& name : bg.keys()) {
      const int k = cfg.task_index(name);
      bg.require(name, k >= 0, "'" + name + "' is not a task of [tasks]");
      auto& t = cfg.tasks[static_cast<size_t>(k)];
      bg.get(name, t.background);
      // a task whose classes come from the data is checked when the manifest is read
      bg.require(name,
                 t.classes.empty() ||
                     std::find(t.classes.begin(), t.classes.end(), t.background) != t.classes.end(),
                 "'" + t.background + "' is not a class of task '" + name + "'");
    }
  }

  const auto ps = s.section("preprocess");
  preprocess::from_toml(ps, cfg.preprocess);
  const auto fs = s.section("features");
  cfg.features = features::preset("speech");
  features::from_toml(fs, cfg.features);
  fs.get("store_audio", cfg.store_audio);
  if (fs.has("sr")) {
    fs.require(
        "sr", cfg.features.sr == cfg.preprocess.sr,
        "must equal preprocess.sr = " + std::to_string(cfg.preprocess.sr) + " (or be left out)");
  }
  cfg.features.sr = cfg.preprocess.sr;
  try {
    cfg.features.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(fs.where("sr") + ": with sr = preprocess.sr: " + e.what());
  }
  check_chunk_frames(cfg, ps);

  const auto sp = s.section("split");
  sp.get("train", cfg.split.train);
  sp.get("validation", cfg.split.validation);
  sp.get("test", cfg.split.test);
  int64_t seed = static_cast<int64_t>(cfg.split.seed);
  sp.get("seed", seed);
  cfg.split.seed = static_cast<uint64_t>(seed);
  sp.get("group", cfg.split.group);
  sp.get("stratify", cfg.split.stratify);
  try {
    cfg.split.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(sp.where("train") + ": " + e.what());
  }
  sp.require("stratify", cfg.split.stratify.empty() || cfg.task_index(cfg.split.stratify) >= 0,
             "'" + cfg.split.stratify + "' is not a task of [tasks]");

  if (s.has("demo")) {
    const auto d = s.section("demo");
    DemoConfig demo;
    d.get("minutes", demo.minutes);
    int64_t dseed = static_cast<int64_t>(demo.seed);
    d.get("seed", dseed);
    demo.seed = static_cast<uint64_t>(dseed);
    d.get("sr", demo.sr);
    std::string voices = demo.voices.string(), wesnoth = demo.wesnoth.string();
    d.get("voices", voices);
    d.get("wesnoth", wesnoth);
    demo.voices = voices;
    demo.wesnoth = wesnoth;
    d.require("minutes", demo.minutes > 0, "must be > 0");
    d.require("sr", demo.sr >= 8000, "must be >= 8000");
    s.require("manifest", !cfg.manifest.empty(), "a [demo] dataset needs the manifest it writes");
    cfg.demo = demo;
  }
  s.check_unknown();
  cfg.validate();
  return cfg;
}

DatasetConfig load_dataset_config(const stdfs::path& toml) {
  const auto root = config::parse_file(toml);
  return dataset_config_from_toml(root, toml);
}

std::string to_string(const DatasetConfig& cfg) {
  std::ostringstream os;
  os << "dataset = " << cfg.name << "\naudio_root = " << cfg.audio_root.string()
     << "\nmanifest = " << (cfg.manifest.empty() ? "(folder per class)" : cfg.manifest.string())
     << "\nallow_outside_root = " << (cfg.allow_outside_root ? "true" : "false")
     << "\noutput = " << cfg.output.string() << "\nshard_size = " << cfg.shard_size
     << "\nfeature_batch = " << cfg.feature_batch << "\ncompression = " << cfg.compression
     << "\nmin_coverage = " << cfg.min_coverage << "\nmin_foreground = " << cfg.min_foreground
     << "\n";
  for (const auto& t : cfg.tasks) {
    os << "tasks." << t.name << " = [";
    for (size_t i = 0; i < t.classes.size(); ++i) os << (i ? ", " : "") << t.classes[i];
    os << "]";
    if (!t.background.empty()) os << " background " << t.background;
    os << "\n";
  }
  os << "split = " << cfg.split.train << "/" << cfg.split.validation << "/" << cfg.split.test
     << " seed " << cfg.split.seed << " group '" << cfg.split.group << "' stratify '"
     << cfg.split.stratify << "'\n";
  os << preprocess::to_string(cfg.preprocess) << "\n" << cfg.features << "\n";
  return os.str();
}

}  // namespace hptrain::data
