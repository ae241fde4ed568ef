// Loudness and peak normalisation: outputs measured again with libebur128 (the R128 reference),
// its values to the last bit, the true-peak ceiling and the ungated fallback of short clips.
#include <ebur128.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "hptrain/preprocess/preprocess.h"
#include "io/audio_fixtures.h"
#include "preprocess/preprocess_fixtures.h"
#include "support/support.h"

namespace hptrain::test {
namespace {

using preprocess::PreprocessConfig;

// The output measured again against the reported input loudness plus gain: the same samples
// before and after one float32 multiply, so only rounding separates them (1.3e-7 LU reached).
constexpr double kRemeasuredLufs = 1e-5;

// Noise in a 44.1 kHz stereo file with silent margins, normalised to several targets: the
// output, measured again with libebur128, is within 0.1 LU of the target.
TEST(PreprocLoudness, WithinTenthOfLuOfTarget) {
  TempDir dir;
  const std::vector<float> l = concat({std::vector<float>(22050, 0.0f), noise(44100 * 5, 0.05, 7),
                                       std::vector<float>(30000, 0.0f)});
  const std::vector<float> r = concat({std::vector<float>(22050, 0.0f), noise(44100 * 5, 0.02, 8),
                                       std::vector<float>(30000, 0.0f)});
  write_audio(dir / "s.wav", interleave({l, r}), 2, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  for (double target : {-23.0, -30.0, -40.0}) {
    PreprocessConfig c;
    c.target_lufs = target;
    c.true_peak_db = 0;
    preprocess::FileReport rep;
    const std::vector<float> y = preprocess::process_whole((dir / "s.wav").string(), c, &rep);
    const Measured m = measure(y, 16000);
    EXPECT_NEAR(m.lufs, target, 0.1) << "target " << target;
    // the reported input loudness is that of the kept audio before the gain: the output measured
    // again, less the reported gain (a gain scales loudness by exactly its dB)
    EXPECT_NEAR(m.lufs - rep.gain_db, rep.input_lufs, kRemeasuredLufs) << "target " << target;
    EXPECT_NEAR(rep.gain_db, target - rep.input_lufs, 1e-9);
    EXPECT_LT(m.true_peak_db, 0.0);
  }
}

// Clicks over quiet noise: reaching -10 LUFS would take the true peak far above -1 dBTP, so the
// ceiling sets the gain; the output's true peak (measured again) sits at the ceiling.
TEST(PreprocLoudness, TruePeakCeilingHolds) {
  TempDir dir;
  std::vector<float> x = noise(16000 * 4, 0.002, 11);
  for (size_t i = 1000; i < x.size(); i += 4001) x[i] = 0.3f;
  write_wav_float(dir / "clicks.wav", x, 16000);
  for (double ceiling : {-1.0, -6.0}) {
    PreprocessConfig c;
    c.trim = false;
    c.target_lufs = -10;
    c.true_peak_db = ceiling;
    preprocess::FileReport rep;
    const std::vector<float> y = preprocess::process_whole((dir / "clicks.wav").string(), c, &rep);
    const Measured m = measure(y, 16000);
    EXPECT_LE(m.true_peak_db, ceiling + 1e-4);
    EXPECT_NEAR(m.true_peak_db, ceiling, 0.01);
    EXPECT_LT(m.lufs, -10 - 1.0);  // the ceiling, not the target, decided
    EXPECT_LT(rep.gain_db, -10 - rep.input_lufs);
  }
}

// The measurement is libebur128's to the last bit, whatever the rate (interpolation by 4, by 2,
// none), the length (the loudness on a thread of its own, or on the caller's when short) and
// the trim (without one, measured while decoding): the reported loudness, and the gain where the
// true-peak ceiling sets it (so it holds the true peak itself) and where the sample peak does,
// equal one libebur128 pass over the kept samples (integrated loudness, sample and true peak
// modes).
TEST(PreprocLoudness, SameValuesAsOneLibebur128Pass) {
  TempDir dir;
  unsigned seed = 40;
  for (const int sr : {8000, 16000, 44100, 48000, 96000, 192000}) {
    for (const double seconds : {1.5, 6.0}) {
      for (const bool trim : {true, false}) {
        // silent margins, noise with clicks (pairs of equal samples: the true peak lies between
        // them, above the sample peak), a click in the last samples kept
        const auto n = static_cast<size_t>(seconds * sr);
        std::vector<float> x = concat({std::vector<float>(static_cast<size_t>(sr / 4), 0.0f),
                                       noise(n, 0.05, seed++), std::vector<float>(3000, 0.0f)});
        for (size_t i = static_cast<size_t>(sr / 4) + 777; i < x.size() - 3000; i += 9001) {
          x[i] = x[i + 1] = (i % 2 != 0u) ? 0.6f : -0.55f;
        }
        x[x.size() - 3001] = 0.7f;
        const auto file = dir / ("r" + std::to_string(sr) + "_" + std::to_string(n) + ".wav");
        write_wav_float(file, x, sr);
        PreprocessConfig c;
        c.sr = sr;
        c.trim = trim;
        c.normalize = "peak";
        c.peak_db = 0;
        c.true_peak_db = -6;  // below every sample peak: the ceiling sets the gain
        preprocess::FileReport rep;
        const auto kept = preprocess::process_whole(file.string(), c, &rep);
        const auto [start, end] =
            trim ? librosa_trim(x, c.top_db, c.frame_length, c.hop_length)
                 : std::pair<int64_t, int64_t>{0, static_cast<int64_t>(x.size())};
        ASSERT_EQ(std::llround(rep.trim_start_s * sr), start) << file;
        ebur128_state* st =
            ebur128_init(1, static_cast<unsigned long>(sr),
                         EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK);
        ebur128_set_channel(st, 0, EBUR128_CENTER);
        ebur128_add_frames_float(st, x.data() + start, static_cast<size_t>(end - start));
        double lufs = 0, tp = 0, sp = 0;
        ebur128_loudness_global(st, &lufs);
        ebur128_true_peak(st, 0, &tp);
        ebur128_sample_peak(st, 0, &sp);
        ebur128_destroy(&st);
        EXPECT_EQ(rep.input_lufs, lufs) << file;
        EXPECT_EQ(rep.gain_db, -6 - 20.0 * std::log10(tp)) << file;
        EXPECT_EQ(kept.size(), static_cast<size_t>(end - start));
        // the sample peak 12 dB under the ceiling: it alone sets the gain
        c.peak_db = -12;
        c.true_peak_db = 0;
        preprocess::process_whole(file.string(), c, &rep);
        EXPECT_EQ(rep.gain_db, -12 - 20.0 * std::log10(sp)) << file;
      }
    }
  }
}

// Peak normalisation: the sample peak of a slow sine lands on peak_db.
TEST(PreprocLoudness, PeakNormalisation) {
  TempDir dir;
  write_wav_float(dir / "p.wav", sine(100, 0.1, 16000, 2.0, 0.3), 16000);
  PreprocessConfig c;
  c.trim = false;
  c.normalize = "peak";
  c.peak_db = -3;
  c.true_peak_db = 0;
  const std::vector<float> y = preprocess::process_whole((dir / "p.wav").string(), c);
  float peak = 0;
  for (float v : y) peak = std::max(peak, std::fabs(v));
  EXPECT_NEAR(20 * std::log10(peak), -3.0, 1e-4);
}

// BS.1770's calibration: a full-scale 997 Hz sine reads -3.01 LKFS, so amplitude 0.5 reads
// -3.01 + 20 log10(0.5) = -9.03. The 0.3 s clip's ungated loudness matches that by hand, and
// libebur128's gated loudness of the same sine over 3 s (independent code), within the K
// filter's start-up transient (0.05 LU).
TEST(PreprocLoudness, ShortClipUngatedFallback) {
  for (int sr : {48000, 16000}) {
    const std::vector<float> clip = sine(997, 0.5, sr, 0.3);
    const double hand = -3.01 + 20 * std::log10(0.5);
    EXPECT_NEAR(preprocess::ungated_loudness(clip.data(), clip.size(), sr), hand, 0.05) << sr;
    EXPECT_NEAR(measure(sine(997, 0.5, sr, 3.0), sr).lufs, hand, 0.05) << sr;
  }
  const float zeros[100] = {};
  EXPECT_EQ(preprocess::ungated_loudness(zeros, 100, 16000),
            -std::numeric_limits<double>::infinity());

  // normalize = "loudness" on a 0.3 s clip: no stop; the ungated loudness reaches the target
  TempDir dir;
  write_wav_float(dir / "short.wav", sine(997, 0.5, 16000, 0.3), 16000);
  PreprocessConfig c;
  c.target_lufs = -23;
  preprocess::FileReport rep;
  const std::vector<float> y = preprocess::process_whole((dir / "short.wav").string(), c, &rep);
  ASSERT_FALSE(y.empty());
  EXPECT_TRUE(rep.ungated);
  EXPECT_NEAR(rep.input_lufs, -9.03, 0.05);
  EXPECT_NEAR(rep.gain_db, -23 - rep.input_lufs, 1e-9);
  EXPECT_NEAR(preprocess::ungated_loudness(y.data(), y.size(), 16000), -23.0, 1e-3);
  // a clip of 0.4 s or more keeps R128's gated measurement
  write_wav_float(dir / "long.wav", sine(997, 0.5, 16000, 1.0), 16000);
  preprocess::process_whole((dir / "long.wav").string(), c, &rep);
  EXPECT_FALSE(rep.ungated);
  EXPECT_NEAR(rep.input_lufs, -9.03, 0.05);

  // a batch of short words: converted, counted, not stopped
  c.chunk_s = c.chunk_hop_s = 0.25;
  preprocess::PreprocessOptions opts{dir.path(), dir / "out", c};
  const preprocess::PreprocessSummary sum = preprocess::run_preprocess(opts);
  EXPECT_EQ(sum.converted, 2);
  EXPECT_EQ(sum.ungated, 1);
}

}  // namespace
}  // namespace hptrain::test
