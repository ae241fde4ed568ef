// [train.augment.noise]: noisy copies of training chunks as extra train shards (noise_augment.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/data/noise.h"
#include "hptrain/data/random.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/progress.h"
#include "hptrain/train/noise_augment.h"

namespace hptrain::train {
namespace {

namespace stdfs = std::filesystem;

// One noisy copy to make: the training row, which of its copies, the kind (index) and the SNR.
struct Copy {
  int64_t row = 0;
  int copy = 0;
  size_t kind = 0;
  double snr_db = 0;
};

// The key of a copy's noise: the chunk's own for the first (as before copies existed), another
// for each further copy of the same chunk.
uint64_t noise_key(const std::string& source, double offset_s, int copy) {
  const uint64_t key = data::chunk_key(source, offset_s);
  return copy == 0 ? key : data::SplitMix64(key + static_cast<uint64_t>(copy)).next();
}

Tensor3 zeros_like_input(const data::ShardDataset& ds, data::Input in, int64_t n) {
  const auto shape = ds.example_shape(in);
  return shape.size() == 1 ? Tensor3(n, 1, shape[0]) : Tensor3(n, shape[0], shape[1]);
}

// What noise.json records of the settings the copies were made with.
nlohmann::json noise_stamp(const ExperimentConfig& cfg, const stdfs::path& shards,
                           const nlohmann::json& prepared) {
  const auto& nc = cfg.train.augment.noise;
  nlohmann::json stamp;
  stamp["prepared"] = prepared.at("fingerprint");
  stamp["shards"] = stdfs::absolute(shards).string();
  stamp["kinds"] = nc.kinds;
  stamp["snr_db"] = nc.snr_db;
  stamp["probability"] = nc.probability;
  if (nc.copies != 1) stamp["copies"] = nc.copies;  // absent: one (folders made before stay)
  stamp["seed"] = cfg.seed;
  stamp["input"] = cfg.input;
  stamp["version"] = 1;
  return stamp;
}

bool stamped(const stdfs::path& out, const nlohmann::json& stamp) {
  if (!stdfs::exists(out / data::kPreparedFile) || !stdfs::exists(out / "noise.json")) {
    return false;
  }
  try {
    return nlohmann::json::parse(fs::read_text(out / "noise.json")) == stamp;
  } catch (const std::exception&) {  // damaged: made again
    return false;
  }
}

}  // namespace

bool noisy_training_shards_current(const ExperimentConfig& cfg, const stdfs::path& shards) {
  return !cfg.train.augment.noise.enabled() ||
         stamped(cfg.output_dir / "noisy-shards",
                 noise_stamp(cfg, shards,
                             nlohmann::json::parse(fs::read_text(shards / data::kPreparedFile))));
}

stdfs::path noisy_training_shards(const ExperimentConfig& cfg, const stdfs::path& shards) {
  const auto& nc = cfg.train.augment.noise;
  if (!nc.enabled()) return shards;
  if (cfg.dataset.empty()) {
    throw ConfigError(cfg.file.string() +
                      ": train.augment.noise needs data.dataset (the sources and their "
                      "preprocessing), not a folder of shards");
  }
  const auto dataset = data::load_dataset_config(cfg.dataset);
  const auto out = cfg.output_dir / "noisy-shards";
  const auto prepared = nlohmann::json::parse(fs::read_text(shards / data::kPreparedFile));
  const nlohmann::json stamp = noise_stamp(cfg, shards, prepared);
  if (stamped(out, stamp)) {
    HP_LOG_INFO("noisy training shards in {} are up to date", out.string());
    return out;
  }
  std::error_code ec;
  fs::remove_tree(out, ec);
  stdfs::create_directories(out);

  const data::ShardDataset train(shards, "train");
  const auto in = data::parse_input(cfg.input);
  const uint64_t seed = data::derive_seed(cfg.seed, "train.augment.noise");
  std::vector<data::NoiseSource> noise;
  for (const auto& k : nc.kinds) {
    noise.push_back(data::load_noise(data::parse_noise_kind(k), dataset, seed));
  }
  // which rows get a copy, with which kind and SNR: per chunk, whatever the order
  std::map<std::string, std::vector<Copy>> by_source;
  std::vector<std::string> order;
  int64_t copies = 0;
  for (int64_t i = 0; i < train.size(); ++i) {
    const auto& src = train.sources()[static_cast<size_t>(i)];
    data::SplitMix64 rng(seed ^ data::chunk_key(src, train.offsets()[static_cast<size_t>(i)]));
    if (rng.uniform() >= nc.probability) continue;
    if (by_source.find(src) == by_source.end()) order.push_back(src);
    for (int j = 0; j < nc.copies; ++j) {
      Copy c{i, j, static_cast<size_t>(rng.below(nc.kinds.size())),
             rng.uniform(nc.snr_db[0], nc.snr_db[1])};
      by_source[src].push_back(c);
      ++copies;
    }
  }
  const std::string speaker = data::speaker_task(dataset);
  const int sr = dataset.preprocess.sr;
  const features::FeatureSelection what = data::input_features(in);
  const auto tasks = train.tasks();

  // the copies, written as train shards after the prepared ones
  const auto prepared_train = data::list_shards(shards, "train");
  int64_t index = static_cast<int64_t>(prepared_train.size());
  data::ShardContents pending;
  std::vector<Tensor3> parts;  // extracted inputs of the pending rows
  int64_t written_shards = 0;
  auto flush = [&] {
    if (pending.size() == 0) return;
    const int64_t n = pending.size();
    Tensor3 x = zeros_like_input(train, in, n);
    int64_t at = 0;
    for (const auto& p : parts) {
      std::copy(p.data.begin(), p.data.end(), x.data.begin() + at);
      at += static_cast<int64_t>(p.data.size());
    }
    pending.log_mel = zeros_like_input(train, data::Input::log_mel, n);
    pending.mfcc = zeros_like_input(train, data::Input::mfcc, n);
    pending.stats = zeros_like_input(train, data::Input::stats, n);
    (in == data::Input::log_mel ? pending.log_mel
     : in == data::Input::mfcc  ? pending.mfcc
                                : pending.stats) = std::move(x);
    pending.stats_columns = train.stats_columns();
    data::ShardInfo info;
    info.split = "train";
    info.index = index;
    info.fingerprint = prepared.at("fingerprint").get<std::string>();
    info.tasks = tasks;
    for (const auto& t : tasks) info.classes[t] = train.classes(t);
    data::write_shard(out / data::shard_name("train", index), pending, info, [&](h5::File& f) {
      features::write_attrs(f, "/", dataset.features);
      f.set_attr("/", "dataset", dataset.name);
      f.set_attr("/", "augmented", stamp.dump());
    });
    ++index;
    ++written_shards;
    pending = data::ShardContents{};
    parts.clear();
  };
  Progress bar("noisy copies", static_cast<size_t>(copies), "chunks");
  for (const auto& src : order) {
    const auto& todo = by_source.at(src);
    std::map<long long, std::vector<const Copy*>> at_ms;
    for (const auto& c : todo) {
      at_ms[std::llround(train.offsets()[static_cast<size_t>(c.row)] * 1000)].push_back(&c);
    }
    const stdfs::path p(src);
    const auto file = (p.is_absolute() ? p : dataset.audio_root / p).lexically_normal();
    // mixed in batches of feature_batch chunks, so that memory stays bounded for a long source
    std::vector<float> audio;
    std::vector<const Copy*> batch;
    int64_t n_samples = 0;
    size_t made = 0;
    auto extract_batch = [&] {
      if (batch.empty()) return;
      auto feats = features::extract(dataset.features, audio.data(),
                                     static_cast<int64_t>(batch.size()), n_samples, what);
      parts.push_back(data::input_examples(feats, in));
      for (const Copy* c : batch) {
        pending.source.push_back(src);
        pending.offset.push_back(train.offsets()[static_cast<size_t>(c->row)]);
        for (const auto& t : tasks) {
          pending.labels[t].push_back(train.labels(t)[static_cast<size_t>(c->row)]);
        }
      }
      made += batch.size();
      bar.advance(batch.size(), src);
      audio.clear();
      batch.clear();
      if (pending.size() >= dataset.shard_size) flush();
    };
    preprocess::process_file(file.string(), dataset.preprocess, [&](preprocess::Chunk&& ch) {
      const auto it = at_ms.find(std::llround(ch.offset_s * 1000));
      if (it == at_ms.end()) return;
      for (const Copy* c : it->second) {
        std::string who;
        if (!speaker.empty()) {
          who = train.classes(
              speaker)[static_cast<size_t>(train.labels(speaker)[static_cast<size_t>(c->row)])];
        }
        auto x = ch.samples;
        const auto nz = noise[c->kind].draw(x.size(), noise_key(src, ch.offset_s, c->copy), who);
        data::mix_at_snr(x.data(), x.size(), nz.data(), c->snr_db, sr);
        n_samples = static_cast<int64_t>(x.size());
        audio.insert(audio.end(), x.begin(), x.end());
        batch.push_back(c);
        if (static_cast<int64_t>(batch.size()) >= dataset.feature_batch) extract_batch();
      }
    });
    extract_batch();
    if (made != todo.size()) {
      throw InputError("training source '" + file.string() + "' gives " + std::to_string(made) +
                       " of the " + std::to_string(todo.size()) +
                       " chunks to copy with noise: it changed or moved since prepare (fix "
                       "audio_root in '" +
                       cfg.dataset.string() + "' or prepare again)");
    }
  }
  flush();
  bar.finish("done");
  // the prepared shards, linked; then noise.json and prepared.json (last: the folder is complete)
  for (const auto& split : data::split_names()) {
    for (const auto& [i, path] : data::list_shards(shards, split)) {
      stdfs::create_symlink(stdfs::absolute(path), out / path.filename());
    }
  }
  auto marker = prepared;
  marker["splits"]["train"]["shards"] =
      static_cast<int64_t>(prepared_train.size()) + written_shards;
  marker["splits"]["train"]["chunks"] = train.size() + copies;
  marker["noise_copies"] = copies;
  fs::write_text(out / "noise.json", stamp.dump(2) + "\n");
  fs::write_text(out / data::kPreparedFile, marker.dump(2) + "\n");
  std::string kinds;
  for (const auto& k : nc.kinds) kinds += (kinds.empty() ? "" : ", ") + k;
  HP_LOG_INFO("train.augment.noise: {} noisy copies of {} training chunks ({}) in {}", copies,
              train.size(), kinds, out.string());
  return out;
}

}  // namespace hptrain::train
