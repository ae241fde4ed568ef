// run_predict end to end through trimming and overlapping chunks: the tone corpus prepared with
// trim = true and 1-s chunks every 0.5 s, a forest trained on it, then a recording with silence
// around a low-then-high tone. Chunk starts are in the file's own time (the trimmed lead-in
// added back), every 0.5 s, and the last partial chunk is kept padded with its true duration.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::train {
namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(PredictTrimmed, OverlappingChunksInTheFilesOwnTime) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  std::string toml = replaced(test::kToneDatasetToml, "trim = false", "trim = true");
  toml = replaced(toml, "chunk_hop_s = 1", "chunk_hop_s = 0.5");
  fs::write_text(dir / "dataset.toml", toml);
  const auto exp = dir / "rf.toml";
  fs::write_text(exp, "[experiment]\nname = \"rf\"\nseed = 1\n\n[data]\ndataset = \"" +
                          (dir / "dataset.toml").string() +
                          "\"\ninput = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n"
                          "\n[output]\ndir = \"" +
                          (dir / "runs" / "rf").string() + "\"\n");
  const auto run = run_experiment({exp, {}, false, 0}).run_dir;

  // 0.5 s of silence, 2 s low (240 Hz), 2 s high (1900 Hz), 0.7 s of silence: 83200 samples
  std::vector<float> y(8000, 0.0f);
  for (const auto& part : {test::tone(240.0, 2.0), test::tone(1900.0, 2.0)}) {
    y.insert(y.end(), part.begin(), part.end());
  }
  y.resize(y.size() + 11200, 0.0f);
  io::write_wav(dir / "quiet.wav", y.data(), y.size(), 16000);

  PredictOptions o;
  o.run = run;
  o.files = {dir / "quiet.wav"};
  o.out = dir / "out";
  const auto out = run_predict(o);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].error.empty()) << out[0].error;
  // Trim (librosa.effects.trim, top_db 60, RMS frames of 2048 centred, hop 512): frame t spans
  // samples [512 t - 1024, 512 t + 1024); the first that reaches the tone (starting at 8000) is
  // t = 14 and the last (tone ends at 72000) is t = 142, so [14 * 512, 143 * 512) = [7168, 73216)
  // is kept: 66048 samples. Chunks of 16000 every 8000: 7 full ones (the 7th ends at 64000),
  // then the remainder at 56000 holds 10048 >= 0.5 * 16000 samples: kept, padded. 8 chunks.
  const double lead = 7168.0 / 16000;  // 0.448 s
  EXPECT_EQ(out[0].chunks, 8);
  const auto rows = test::read_csv(out[0].csv);
  ASSERT_EQ(rows.size(), 1u + 8);
  for (size_t k = 0; k < 8; ++k) {
    const auto& r = rows[k + 1];
    ASSERT_GE(r.size(), 3u);
    EXPECT_NEAR(std::stod(r[0]), lead + 0.5 * static_cast<double>(k), 1e-6) << "chunk " << k;
    EXPECT_NEAR(std::stod(r[1]), k < 7 ? 1.0 : 10048.0 / 16000, 1e-6) << "chunk " << k;
    // chunks within the low part (before 2.5 s) or the high part; chunk 3 straddles the change
    // (0.55 s low, 0.45 s high) and chunk 7 is half silence
    if (k <= 2) {
      EXPECT_EQ(r[2], "low") << "chunk " << k << " at " << r[0];
    } else if (k >= 4 && k <= 6) {
      EXPECT_EQ(r[2], "high") << "chunk " << k << " at " << r[0];
    }
  }
  // the timeline starts at the first chunk, in the file's time, with the low tone
  const auto seg = test::read_csv(out[0].segments);
  ASSERT_GE(seg.size(), 3u);
  EXPECT_EQ(seg[1][1], "low");
  EXPECT_NEAR(std::stod(seg[1][2]), lead, 1e-6);
  EXPECT_EQ(seg.back()[1], "high");
}

}  // namespace
}  // namespace hptrain::train
