// make_conversations on synthetic voices (tones in a folder per speaker, a flat LibriSpeech-like
// folder): the same seed writes the same bytes, the reference turns lie where the audio is loud,
// speaker counts stay in range, and a bed sits at the asked SNR (mix minus the bed-free mix).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "hptrain/diarization/conversations.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::diarization {
namespace {

namespace stdfs = std::filesystem;

// `n` speakers, each 3 lines of 0.6-1.5 s of a harmonic tone at its own pitch.
void write_voices(const stdfs::path& root, int n, bool flat) {
  const int sr = 16000;
  for (int s = 0; s < n; ++s) {
    for (int l = 0; l < 3; ++l) {
      const int len = sr * (6 + 4 * l) / 10;
      std::vector<float> x(static_cast<size_t>(len));
      const double f0 = 110.0 * (1 + s * 0.37);
      for (int i = 0; i < len; ++i) {
        const double t = static_cast<double>(i) / sr;
        x[static_cast<size_t>(i)] = static_cast<float>(
            0.2 * (std::sin(2 * M_PI * f0 * t) + 0.5 * std::sin(4 * M_PI * f0 * t)));
      }
      const std::string spk = "spk" + std::to_string(s);
      const auto p = flat ? root / (spk + "-" + std::to_string(l) + ".wav")
                          : root / spk / ("line" + std::to_string(l) + ".wav");
      io::write_wav(p, x.data(), x.size(), sr);
    }
  }
}

ConversationConfig small(const stdfs::path& voices) {
  ConversationConfig c;
  c.count = 2;
  c.min_speakers = 2;
  c.max_speakers = 3;
  c.min_duration_s = 12;
  c.max_duration_s = 16;
  c.voices = voices;
  c.seed = 4;
  return c;
}

TEST(Conversations, SameSeedSameBytesAndTurnsWhereTheAudioIs) {
  test::TempDir dir;
  write_voices(dir / "v", 4, false);
  auto cfg = small(dir / "v");
  const auto a = make_conversations(cfg, dir / "a");
  make_conversations(cfg, dir / "b");
  ASSERT_EQ(a.size(), 2u);
  for (const auto& c : a) {
    EXPECT_EQ(fs::read_bytes(dir / "a" / (c.name + ".wav")),
              fs::read_bytes(dir / "b" / (c.name + ".wav")));
    EXPECT_EQ(fs::read_text(dir / "a" / (c.name + ".rttm")),
              fs::read_text(dir / "b" / (c.name + ".rttm")));
    EXPECT_GE(c.speakers.size(), 2u);
    EXPECT_LE(c.speakers.size(), 3u);
    const auto x = io::load_mono((dir / "a" / (c.name + ".wav")).string(), 16000);
    std::vector<char> ref(x.size(), 0);
    std::set<std::string> seen;
    for (const auto& t : read_rttm(dir / "a" / (c.name + ".rttm"))) {
      EXPECT_EQ(t.uri, c.name);
      EXPECT_LE(t.onset + t.duration, c.duration_s + 1e-3);
      seen.insert(t.speaker);
      for (auto i = static_cast<size_t>(t.onset * 16000);
           i < static_cast<size_t>((t.onset + t.duration) * 16000) && i < x.size(); ++i)
        ref[i] = 1;
    }
    EXPECT_EQ(seen.size(), c.speakers.size());
    double in = 0, out = 0, nin = 0, nout = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      (ref[i] ? in : out) += static_cast<double>(x[i]) * x[i];
      (ref[i] ? nin : nout) += 1;
    }
    ASSERT_GT(nin, 0);
    ASSERT_GT(nout, 0);
    // outside the turns: 30 dB (kActivityDb) under the speech, less the 3-decimal rounding
    EXPECT_LT(out / nout, 1e-3 * in / nin) << c.name;
  }
  cfg.seed = 5;
  make_conversations(cfg, dir / "c");
  EXPECT_NE(fs::read_bytes(dir / "a" / "conv-000.wav"), fs::read_bytes(dir / "c" / "conv-000.wav"));
}

TEST(Conversations, BedAtTheAskedSnr) {
  test::TempDir dir;
  write_voices(dir / "v", 3, true);  // flat: the speaker is the name up to '-'
  std::vector<float> noise(16000 * 3);
  uint32_t s = 1;
  for (auto& v : noise) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<int32_t>(s) / 2147483648.0 * 0.1);
  }
  io::write_wav(dir / "w" / "music" / "track.wav", noise.data(), noise.size(), 16000);
  auto cfg = small(dir / "v");
  cfg.count = 1;
  cfg.wesnoth = dir / "w";
  const auto clean = make_conversations(cfg, dir / "clean");
  cfg.bed = "music";
  cfg.snr_db = 10;
  make_conversations(cfg, dir / "music");
  const auto x = io::load_mono((dir / "clean" / "conv-000.wav").string(), 16000);
  const auto y = io::load_mono((dir / "music" / "conv-000.wav").string(), 16000);
  ASSERT_EQ(x.size(), y.size());
  std::vector<char> ref(x.size(), 0);
  for (const auto& t : clean[0].turns) {
    for (auto i = static_cast<size_t>(t.onset * 16000);
         i < static_cast<size_t>((t.onset + t.duration) * 16000) && i < x.size(); ++i)
      ref[i] = 1;
  }
  double ps = 0, ns = 0, pb = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double b = static_cast<double>(y[i]) - x[i];
    pb += b * b;
    if (ref[i]) {
      ps += static_cast<double>(x[i]) * x[i];
      ns += 1;
    }
  }
  const double snr = 10 * std::log10((ps / ns) / (pb / static_cast<double>(x.size())));
  EXPECT_NEAR(snr, 10.0, 0.05);  // activity boundaries at 10 ms vs the written 3 decimals
}

TEST(Conversations, TooFewVoicesIsAnError) {
  test::TempDir dir;
  write_voices(dir / "v", 2, false);
  auto cfg = small(dir / "v");
  cfg.max_speakers = 4;
  try {
    make_conversations(cfg, dir / "o");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 speakers, fewer than"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hptrain::diarization
