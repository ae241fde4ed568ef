// A small synthetic but non-trivial dataset written as real shards (data::write_shard): a
// 3-class "scene" task (which band carries a burst, at a random time and level) and a 2-class
// "music" task (sparse extra energy in the top rows), over noise. Deterministic for a seed.
#pragma once

#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "hptrain/data/shard.h"
#include "hptrain/fs.h"

namespace hptrain::test {

struct SyntheticSizes {
  int64_t train = 192, validation = 48, test = 48;
  int64_t frames = 24;  // T of log_mel and mfcc
  int64_t log_mel_rows = 16, mfcc_rows = 12;
};

// One example's rows of a [rows, T] map in dB: noise, a burst in band `scene`, and energy on a
// random half of the frames in the top rows when `music`.
inline void synthetic_map(std::mt19937& rng, float* out, int64_t rows, int64_t frames, int scene,
                          bool music) {
  std::normal_distribution<float> noise(0.0f, 3.0f);
  std::uniform_real_distribution<float> level(5.0f, 10.0f);
  const float base = -40.0f + noise(rng);
  for (int64_t i = 0; i < rows * frames; ++i) out[i] = base + noise(rng);
  const int64_t band = (rows - rows / 4) / 3;  // three scene bands below the music rows
  const int64_t len = frames / 2;
  const int64_t start = std::uniform_int_distribution<int64_t>(0, frames - len)(rng);
  const float burst = level(rng);
  for (int64_t r = scene * band; r < (scene + 1) * band; ++r) {
    for (int64_t t = start; t < start + len; ++t) out[r * frames + t] += burst;
  }
  if (music) {
    const float m = level(rng);
    for (int64_t t = 0; t < frames; ++t) {
      if (rng() % 2 != 0) continue;
      for (int64_t r = rows - rows / 4; r < rows; ++r) out[r * frames + t] += m;
    }
  }
}

// Writes train/validation/test shards (two per split) and prepared.json under `dir`.
inline std::filesystem::path write_synthetic_shards(const std::filesystem::path& dir,
                                                    uint32_t seed = 5,
                                                    const SyntheticSizes& sizes = {}) {
  std::mt19937 rng(seed);
  const std::vector<std::pair<std::string, int64_t>> splits_n = {
      {"train", sizes.train}, {"validation", sizes.validation}, {"test", sizes.test}};
  for (const auto& [split, n_split] : splits_n) {
    for (int64_t shard = 0; shard < 2; ++shard) {
      const int64_t n = n_split / 2 + (shard == 0 ? n_split % 2 : 0);
      data::ShardContents c;
      c.log_mel = Tensor3(n, sizes.log_mel_rows, sizes.frames);
      c.mfcc = Tensor3(n, sizes.mfcc_rows, sizes.frames);
      c.stats = Tensor3(n, 1, 4);
      c.stats_columns = {"band0", "band1", "band2", "top"};
      for (int64_t i = 0; i < n; ++i) {
        const int scene = static_cast<int>(rng() % 3);
        const bool music = rng() % 2 == 0;
        synthetic_map(rng, c.log_mel.item(i), sizes.log_mel_rows, sizes.frames, scene, music);
        synthetic_map(rng, c.mfcc.item(i), sizes.mfcc_rows, sizes.frames, scene, music);
        const int64_t q = sizes.log_mel_rows / 4;
        for (int64_t s = 0; s < 4; ++s) {  // band means of the log-mel map
          double sum = 0;
          for (int64_t r = s * q; r < (s + 1) * q; ++r) {
            for (int64_t t = 0; t < sizes.frames; ++t) sum += c.log_mel.at(i, r, t);
          }
          c.stats.at(i, 0, s) = static_cast<float>(sum / static_cast<double>(q * sizes.frames));
        }
        c.labels["scene"].push_back(scene);
        c.labels["music"].push_back(music ? 1 : 0);
        c.source.push_back("synthetic-" + split + ".wav");
        c.offset.push_back(3.0 * static_cast<double>(i));
      }
      data::ShardInfo info;
      info.split = split;
      info.index = shard;
      info.fingerprint = "synthetic";
      info.tasks = {"scene", "music"};
      info.classes = {{"scene", {"dialog", "action", "emotional"}}, {"music", {"no", "yes"}}};
      data::write_shard(dir / data::shard_name(split, shard), c, info, [](h5::File&) {});
    }
  }
  // the marker of a complete folder, written last as `hptrain prepare` does
  nlohmann::json splits;
  for (const auto& [split, n] : splits_n) splits[split] = {{"shards", 2}, {"chunks", n}};
  fs::write_text(dir / data::kPreparedFile,
                 nlohmann::json{{"fingerprint", "synthetic"}, {"splits", splits}}.dump());
  return dir;
}

}  // namespace hptrain::test
