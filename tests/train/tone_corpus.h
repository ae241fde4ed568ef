// A prepared-from-audio corpus small enough for a test: twelve 3-s WAV files of low
// (220-330 Hz) and high (1760-2640 Hz) tones with a manifest and a dataset TOML (task `pitch`,
// 1-s chunks), and film.wav, a new recording of 2 s of a low tone then 2 s of a high one at
// frequencies not trained on. Used by the predict tests of the library and of the program, and
// (its TOML) by prepare's.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "hptrain/fs.h"
#include "hptrain/io/audio.h"

namespace hptrain::test {

// The corpus's dataset TOML: task `pitch`, 1-s chunks, no trimming, the speech features; it ends
// inside [features], and top-level keys may go before it.
inline const std::string kToneDatasetToml = R"(
audio_root = "audio"
manifest = "audio/manifest.csv"
output = "shards"

[tasks]
pitch = ["low", "high"]

[split]
train = 0.5
validation = 0.25
test = 0.25
seed = 3

[preprocess]
sr = 16000
trim = false
chunk_s = 1
chunk_hop_s = 1

[features]
preset = "speech"
)";

inline std::vector<float> tone(double hz, double seconds, int sr = 16000) {
  std::vector<float> x(static_cast<size_t>(seconds * sr));
  for (size_t n = 0; n < x.size(); ++n) {
    x[n] = 0.2f * static_cast<float>(std::sin(2 * M_PI * hz * static_cast<double>(n) / sr));
  }
  return x;
}

// Writes dir/audio/*.wav, dir/audio/manifest.csv, dir/dataset.toml and dir/film.wav; returns
// the dataset TOML's path.
inline std::filesystem::path write_tone_corpus(const std::filesystem::path& dir) {
  constexpr int kSr = 16000;
  std::string csv = "path,pitch\n";
  std::filesystem::create_directories(dir / "audio");
  for (int i = 0; i < 12; ++i) {
    const bool low = i % 2 == 0;
    const auto x = tone((low ? 220.0 : 1760.0) * (1 + 0.1 * (i / 2)), 3.0);
    const std::string name = "f" + std::to_string(i) + ".wav";
    io::write_wav(dir / "audio" / name, x.data(), x.size(), kSr);
    csv += name + "," + (low ? "low" : "high") + "\n";
  }
  fs::write_text(dir / "audio" / "manifest.csv", csv);
  fs::write_text(dir / "dataset.toml", kToneDatasetToml);
  auto film = tone(240.0, 2.0);
  const auto high = tone(1900.0, 2.0);
  film.insert(film.end(), high.begin(), high.end());
  io::write_wav(dir / "film.wav", film.data(), film.size(), kSr);
  return dir / "dataset.toml";
}

}  // namespace hptrain::test
