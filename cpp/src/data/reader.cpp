// ShardDataset and Prefetcher: random access over a split's shards and a background reader.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/data/random.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

Input parse_input(const std::string& name) {
  if (name == "log_mel") return Input::log_mel;
  if (name == "mfcc") return Input::mfcc;
  if (name == "stats") return Input::stats;
  if (name == "waveform") return Input::waveform;
  throw ConfigError("input '" + name + "': expected log_mel, mfcc, stats or waveform");
}

std::string input_name(Input in) {
  switch (in) {
    case Input::log_mel:
      return "log_mel";
    case Input::mfcc:
      return "mfcc";
    case Input::stats:
      return "stats";
    case Input::waveform:
      return "audio";
  }
  return {};
}

features::FeatureSelection input_features(Input in) {
  features::FeatureSelection what{false, false, false, false, false,
                                  false, false, false, false, false};
  switch (in) {
    case Input::log_mel:
      what.log_mel = true;
      break;
    case Input::mfcc:
      what.mfcc = what.deltas = true;
      break;
    case Input::stats:
      what.stats = true;
      break;
    case Input::waveform:
      break;  // no features: the chunk itself
  }
  return what;
}

Tensor3 input_examples(features::FeatureSet& fs, Input in) {
  switch (in) {
    case Input::log_mel:
      return std::move(fs.log_mel);
    case Input::stats:
      return std::move(fs.stats);
    case Input::mfcc:
      break;
    case Input::waveform:
      throw ConfigError("input waveform: the chunks' audio, not a feature");
  }
  Tensor3 stacked(fs.mfcc.batch, 3 * fs.mfcc.rows, fs.mfcc.frames);
  const size_t block = static_cast<size_t>(fs.mfcc.rows * fs.mfcc.frames);
  for (int64_t b = 0; b < fs.mfcc.batch; ++b) {
    float* out = stacked.item(b);
    std::copy_n(fs.mfcc.item(b), block, out);
    std::copy_n(fs.mfcc_delta.item(b), block, out + block);
    std::copy_n(fs.mfcc_delta2.item(b), block, out + 2 * block);
  }
  return stacked;
}

int64_t input_rows(const features::FeatureConfig& cfg, Input in) {
  switch (in) {
    case Input::log_mel:
      return cfg.mel.n_mels;
    case Input::mfcc:
      return 3 * cfg.mfcc.n_mfcc;
    case Input::stats:
    case Input::waveform:
      break;
  }
  return 1;
}

struct ShardDataset::Shard {
  h5::File file;
  int64_t n = 0;
};

ShardDataset::~ShardDataset() = default;

ShardDataset::ShardDataset(const stdfs::path& shards_dir, const std::string& split)
    : split_(split), dir_(shards_dir) {
  // prepared.json is written last: without it (or with fewer shards) the folder is incomplete
  const auto marker = shards_dir / kPreparedFile;
  if (!stdfs::exists(marker)) {
    throw InputError("'" + shards_dir.string() + "' is not completely prepared (no " +
                     kPreparedFile + "): run hptrain prepare");
  }
  std::string fingerprint;
  int64_t expected = 0;
  try {
    const auto j = nlohmann::json::parse(fs::read_text(marker));
    fingerprint = j.at("fingerprint").get<std::string>();
    if (j.at("splits").contains(split)) expected = j["splits"][split].at("shards").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError("'" + marker.string() + "': " + e.what());
  }
  if (expected == 0) {
    throw InputError("no '" + split + "' shards (" + split + "-<i>.h5) under '" +
                     shards_dir.string() + "': the split is empty");
  }
  const auto files = list_shards(shards_dir, split);
  starts_.push_back(0);
  for (size_t i = 0; i < static_cast<size_t>(expected); ++i) {
    if (i >= files.size() || files[i].first != static_cast<int64_t>(i)) {
      throw InputError("shard '" +
                       (shards_dir / shard_name(split, static_cast<int64_t>(i))).string() +
                       "' is missing: run hptrain prepare to complete the dataset");
    }
    auto shard = std::make_unique<Shard>(Shard{h5::File::open_read(files[i].second), 0});
    const h5::File& f = shard->file;
    const auto info = read_shard_info(f);
    if (info.fingerprint != fingerprint) {
      throw InputError("shard '" + files[i].second.string() +
                       "' was prepared with another configuration than " + kPreparedFile +
                       " records: run hptrain prepare");
    }
    if (i == 0) {
      tasks_ = info.tasks;
      classes_ = info.classes;
      stats_columns_ = f.attr_strings("stats", "columns");
      for (Input in : {Input::log_mel, Input::mfcc, Input::stats}) {
        auto s = f.shape(input_name(in));
        shapes_[in] = std::vector<int64_t>(s.begin() + 1, s.end());
      }
      if (f.has("audio")) {
        shapes_[Input::waveform] = {1, f.shape("audio").at(1)};
        audio_sr_ = f.has_attr("audio", "sample_rate") ? f.attr_int("audio", "sample_rate") : 0;
      }
    }
    shard->n = f.shape("log_mel").at(0);
    for (const auto& task : tasks_) {
      auto l = f.read_int64s("labels/" + task);
      auto& all = labels_[task];
      all.insert(all.end(), l.begin(), l.end());
    }
    auto src = f.read_strings("source");
    sources_.insert(sources_.end(), src.begin(), src.end());
    auto off = f.read_doubles("offset");
    offsets_.insert(offsets_.end(), off.begin(), off.end());
    starts_.push_back(starts_.back() + shard->n);
    shards_.push_back(std::move(shard));
  }
}

int64_t ShardDataset::size() const {
  return starts_.back();
}

const std::vector<std::string>& ShardDataset::tasks() const {
  return tasks_;
}

const std::vector<std::string>& ShardDataset::classes(const std::string& task) const {
  auto it = classes_.find(task);
  if (it == classes_.end()) throw ConfigError("dataset has no task '" + task + "'");
  return it->second;
}

const std::vector<int64_t>& ShardDataset::labels(const std::string& task) const {
  auto it = labels_.find(task);
  if (it == labels_.end()) throw ConfigError("dataset has no task '" + task + "'");
  return it->second;
}

std::vector<int64_t> ShardDataset::example_shape(Input in) const {
  const auto it = shapes_.find(in);
  if (it == shapes_.end()) {
    throw InputError("the shards in '" + dir_.string() + "' hold no audio (input waveform): set " +
                     "store_audio = true under [features] in the dataset file and run hptrain " +
                     "prepare again");
  }
  return it->second;
}

std::vector<std::string> ShardDataset::stats_columns() const {
  return stats_columns_;
}

std::string ShardDataset::attr_string(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shards_.front()->file.attr_string("/", name);
}

double ShardDataset::attr_double(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shards_.front()->file.attr_double("/", name);
}

Batch ShardDataset::get(const std::vector<int64_t>& indices, Input in) const {
  const auto ex = example_shape(in);
  int64_t per = 1;
  for (auto d : ex) per *= d;
  Batch b;
  b.indices = indices;
  b.shape = {static_cast<int64_t>(indices.size())};
  b.shape.insert(b.shape.end(), ex.begin(), ex.end());
  b.x.resize(indices.size() * static_cast<size_t>(per));
  for (const auto& task : tasks_) b.labels[task].reserve(indices.size());
  const std::string name = input_name(in);
  for (const int64_t idx : indices) {
    if (idx < 0 || idx >= size()) {
      throw InputError("example " + std::to_string(idx) + " is out of range [0, " +
                       std::to_string(size()) + ") of split '" + split_ + "'");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto cached = cache_.find(in);
  if (cached == cache_.end() &&
      size() * per * static_cast<int64_t>(sizeof(float)) <= cache_budget_) {
    std::vector<float> all;
    all.reserve(static_cast<size_t>(size() * per));
    for (const auto& shard : shards_) {
      const auto part = shard->file.read_floats(name);
      all.insert(all.end(), part.begin(), part.end());
    }
    cached = cache_.emplace(in, std::move(all)).first;
  }
  if (cached != cache_.end()) {
    for (size_t i = 0; i < indices.size(); ++i) {
      std::copy_n(cached->second.data() + indices[i] * per, per,
                  b.x.data() + i * static_cast<size_t>(per));
    }
  }
  // Otherwise from the shards: runs of consecutive indices in one shard are read with one call.
  for (size_t i = 0; cached == cache_.end() && i < indices.size();) {
    const int64_t idx = indices[i];
    const size_t s = std::upper_bound(starts_.begin(), starts_.end(), idx) - starts_.begin() - 1;
    size_t run = 1;
    while (i + run < indices.size() && indices[i + run] == idx + static_cast<int64_t>(run) &&
           idx + static_cast<int64_t>(run) < starts_[s + 1]) {
      ++run;
    }
    shards_[s]->file.read_float_rows(name, idx - starts_[s], static_cast<int64_t>(run),
                                     b.x.data() + i * static_cast<size_t>(per));
    i += run;
  }
  for (const auto& task : tasks_) {
    const auto& all = labels_.at(task);
    for (auto idx : indices) b.labels[task].push_back(all[static_cast<size_t>(idx)]);
  }
  return b;
}

Prefetcher::Prefetcher(const ShardDataset& ds, Input in, int64_t batch_size, bool shuffle,
                       uint64_t seed, int depth, Stage stage)
    : ds_(ds),
      in_(in),
      batch_size_(batch_size),
      depth_(static_cast<size_t>(depth)),
      stage_(std::move(stage)) {
  if (batch_size <= 0)
    throw ConfigError("batch_size = " + std::to_string(batch_size) + ": must be > 0");
  if (depth <= 0) throw ConfigError("prefetch depth = " + std::to_string(depth) + ": must be > 0");
  order_ = permutation(ds.size(), seed);
  if (!shuffle) std::sort(order_.begin(), order_.end());
  n_batches_ = (ds.size() + batch_size - 1) / batch_size;
  thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Prefetcher::run() {
  try {
    for (int64_t b = 0; b < n_batches_; ++b) {
      const auto first = order_.begin() + b * batch_size_;
      const auto last = order_.begin() + std::min<int64_t>((b + 1) * batch_size_, ds_.size());
      Batch batch = ds_.get(std::vector<int64_t>(first, last), in_);
      if (stage_) stage_(batch);
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || queue_.size() < depth_; });
      if (stop_) return;
      queue_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
}

bool Prefetcher::next(Batch& out) {
  if (delivered_ == n_batches_) return false;
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !queue_.empty() || error_ != nullptr; });
  if (queue_.empty()) std::rethrow_exception(error_);
  out = std::move(queue_.front());
  queue_.pop_front();
  ++delivered_;
  cv_.notify_all();
  return true;
}

}  // namespace hptrain::data
