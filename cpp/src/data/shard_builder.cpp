// prepare's shard builder (shard_builder.h).
#include "data/shard_builder.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"

namespace hptrain::data::detail {
namespace {

// The `name = value` lines of preprocess::to_string as attributes "preprocess_<name>".
void write_preprocess_attrs(h5::File& f, const preprocess::PreprocessConfig& cfg) {
  std::istringstream in(preprocess::to_string(cfg));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    f.set_attr("/", "preprocess_" + line.substr(0, eq), line.substr(eq + 3));
  }
}

void append(Tensor3& dst, const Tensor3& src) {
  dst.rows = src.rows;
  dst.frames = src.frames;
  dst.batch += src.batch;
  dst.data.insert(dst.data.end(), src.data.begin(), src.data.end());
}

}  // namespace

ShardBuilder::ShardBuilder(const DatasetConfig& cfg, const std::vector<Task>& tasks,
                           std::string split, std::string fingerprint, int64_t next_index,
                           SplitSummary& summary, Namer name,
                           std::function<void(h5::File&)> extra_attrs)
    : cfg_(cfg),
      tasks_(tasks),
      split_(std::move(split)),
      fingerprint_(std::move(fingerprint)),
      index_(next_index),
      summary_(summary),
      name_(std::move(name)),
      extra_attrs_(std::move(extra_attrs)),
      columns_(features::stats_columns(cfg.features)) {
  what_.stft_mag = what_.melspectrogram = what_.chroma = what_.contrast = what_.zcr = what_.rms =
      false;
  reset_shard();
}

void ShardBuilder::add(preprocess::Chunk&& c, const std::vector<int>& labels, int64_t file_index) {
  if (n_samples_ == 0) n_samples_ = static_cast<int64_t>(c.samples.size());
  if (static_cast<int64_t>(c.samples.size()) != n_samples_) {
    throw InputError("'" + c.source + "': chunk of " + std::to_string(c.samples.size()) +
                     " samples, expected " + std::to_string(n_samples_));
  }
  audio_.insert(audio_.end(), c.samples.begin(), c.samples.end());
  ++pending_;
  shard_.source.push_back(current_path_);
  shard_.offset.push_back(c.offset_s);
  for (size_t k = 0; k < tasks_.size(); ++k) {
    shard_.labels[tasks_[k].name].push_back(labels[k]);
    summary_.class_counts[tasks_[k].name][static_cast<size_t>(labels[k])] += 1;
  }
  last_file_ = file_index;
  last_chunk_ = c.index;
  const int64_t in_shard = static_cast<int64_t>(shard_.source.size());
  if (pending_ == cfg_.feature_batch || in_shard == cfg_.shard_size) extract();
  if (in_shard == cfg_.shard_size) write();
}

void ShardBuilder::finish() {
  if (!shard_.source.empty()) {
    extract();
    write();
  }
}

void ShardBuilder::reset_shard() {
  shard_ = ShardContents{};
  shard_.stats_columns = columns_;
  for (const auto& t : tasks_) shard_.labels[t.name];
}

void ShardBuilder::extract() {
  if (pending_ == 0) return;
  auto fs = features::extract(cfg_.features, audio_.data(), pending_, n_samples_, what_);
  append(shard_.log_mel, input_examples(fs, Input::log_mel));
  append(shard_.stats, input_examples(fs, Input::stats));
  append(shard_.mfcc, input_examples(fs, Input::mfcc));
  if (cfg_.store_audio) {
    append(shard_.audio, Tensor3(pending_, 1, n_samples_));
    std::copy(audio_.begin(), audio_.end(), shard_.audio.data.end() - audio_.size());
  }
  audio_.clear();
  pending_ = 0;
}

void ShardBuilder::write() {
  ShardInfo info;
  info.split = split_;
  info.index = index_;
  info.fingerprint = fingerprint_;
  for (const auto& t : tasks_) {
    info.tasks.push_back(t.name);
    info.classes[t.name] = t.classes;
  }
  info.resume_file = last_file_;
  info.resume_chunk = last_chunk_;
  const auto path = cfg_.output / name_(index_);
  write_shard(
      path, shard_, info,
      [&](h5::File& f) {
        write_preprocess_attrs(f, cfg_.preprocess);
        features::write_attrs(f, "/", cfg_.features);
        f.set_attr("/", "dataset", cfg_.name);
        f.set_attr("/", "min_coverage", cfg_.min_coverage);
        f.set_attr("/", "min_foreground", cfg_.min_foreground);
        f.set_attr("/", "shard_size", cfg_.shard_size);
        if (cfg_.store_audio) {
          f.set_attr("audio", "sample_rate", static_cast<int64_t>(cfg_.preprocess.sr));
        }
        if (extra_attrs_) extra_attrs_(f);
      },
      h5::Compression::parse(cfg_.compression, cfg_.file.string() + ": compression"));
  summary_.chunks += shard_.size();
  summary_.shards += 1;
  ++index_;
  ++written_;
  reset_shard();
}

}  // namespace hptrain::data::detail
