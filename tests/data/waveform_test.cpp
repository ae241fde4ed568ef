// [features] store_audio: prepare() adds each chunk's waveform to the shards (`audio`, float32,
// with its sample rate), the reader serves it as input "waveform" ([1, samples]) and its log-mel
// is the shard's own log_mel; without it, asking for waveforms says what to set and re-run.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "hptrain/data/dataset.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

constexpr int kSr = 16000;
// log-mel (dB) of the same samples through the same code in batches of 2 or 1: float32 rounding
constexpr double kAtol = 1e-4, kRtol = 1e-5;

class WaveformShards : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string csv = "path,pitch\n";
    for (int i = 0; i < 4; ++i) {
      const double hz = i < 2 ? 220.0 * (1 + 0.1 * i) : 1760.0 * (1 + 0.1 * i);
      const auto x = test::tone(hz, 2.0);
      const std::string name = "f" + std::to_string(i) + ".wav";
      stdfs::create_directories(dir_ / "audio");
      io::write_wav(dir_ / "audio" / name, x.data(), x.size(), kSr);
      csv += name + "," + (i < 2 ? "low" : "high") + "\n";
    }
    fs::write_text(dir_ / "audio" / "manifest.csv", csv);
  }
  PrepareSummary prepare(bool store_audio) {
    fs::write_text(dir_ / "dataset.toml", "shard_size = 3\nfeature_batch = 2\n" +
                                              test::kToneDatasetToml +
                                              (store_audio ? "store_audio = true\n" : ""));
    PrepareOptions o;
    o.dataset = dir_ / "dataset.toml";
    return run_prepare(o);
  }
  test::TempDir dir_;
};

TEST_F(WaveformShards, StoredAudioIsTheChunkTheFeaturesCameFrom) {
  prepare(true);
  const auto cfg = load_dataset_config(dir_ / "dataset.toml");
  ASSERT_TRUE(cfg.store_audio);
  for (const auto& split : {"train", "validation", "test"}) {
    ShardDataset ds(dir_ / "shards", split);
    EXPECT_EQ(ds.example_shape(Input::waveform), (std::vector<int64_t>{1, kSr}));
    EXPECT_EQ(ds.audio_sample_rate(), kSr);
    std::vector<int64_t> all;
    for (int64_t i = 0; i < ds.size(); ++i) all.push_back(i);
    const auto wave = ds.get(all, Input::waveform);
    const auto mel = ds.get(all, Input::log_mel);
    ASSERT_EQ(wave.shape, (std::vector<int64_t>{ds.size(), 1, kSr}));
    auto fs = features::extract(cfg.features, wave.x.data(), ds.size(), kSr,
                                input_features(Input::log_mel));
    ASSERT_EQ(fs.log_mel.data.size(), mel.x.size());
    for (size_t k = 0; k < mel.x.size(); ++k) {
      ASSERT_LE(std::abs(fs.log_mel.data[k] - mel.x[k]), kAtol + kRtol * std::abs(mel.x[k]))
          << split << " value " << k;
    }
    // and it is sound, not zeros: a tone at the corpus's level after loudness normalisation
    float peak = 0;
    for (float v : wave.x) peak = std::max(peak, std::abs(v));
    EXPECT_GT(peak, 0.01f) << split;
  }
  // the HDF5 layout the README documents
  const auto shard =
      read_shard(h5::File::open_read(list_shards(dir_ / "shards", "train")[0].second));
  EXPECT_EQ(shard.audio.batch, shard.size());
  EXPECT_EQ(shard.audio.frames, kSr);
}

TEST_F(WaveformShards, WithoutStoredAudioWaveformInputSaysWhatToDo) {
  const auto first = prepare(false);
  ShardDataset ds(dir_ / "shards", "train");
  EXPECT_EQ(ds.audio_sample_rate(), 0);
  try {
    ds.example_shape(Input::waveform);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("store_audio = true"), std::string::npos) << m;
    EXPECT_NE(m.find("[features]"), std::string::npos) << m;
    EXPECT_NE(m.find("prepare"), std::string::npos) << m;
    EXPECT_NE(m.find((dir_ / "shards").string()), std::string::npos) << m;
  }
  EXPECT_THROW(ds.get({0}, Input::waveform), InputError);
  // turning it on is a new configuration: the shards are prepared again, now with audio
  EXPECT_FALSE(prepare(true).up_to_date);
  ShardDataset again(dir_ / "shards", "train");
  EXPECT_EQ(again.example_shape(Input::waveform), (std::vector<int64_t>{1, kSr}));
  EXPECT_TRUE(prepare(true).up_to_date);
}

TEST(Input, WaveformIsAnInputName) {
  EXPECT_EQ(parse_input("waveform"), Input::waveform);
  EXPECT_EQ(input_name(Input::waveform), "audio");
  EXPECT_THROW(parse_input("wave"), ConfigError);
}

}  // namespace
}  // namespace hptrain::data
