// Configuration, trimming (against a direct transcription of librosa.effects.trim), chunking at
// edge lengths, long files decoded per pass and bad input (loudness: loudness_test.cpp).
#include "hptrain/preprocess/preprocess.h"

#include <ebur128.h>

#include <algorithm>
#include <fstream>

#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "io/audio_fixtures.h"
#include "preprocess/preprocess_fixtures.h"
#include "support/support.h"

namespace hptrain::test {
namespace {

using preprocess::PreprocessConfig;

// --- configuration -------------------------------------------------------------------------

TEST(PreprocConfig, ValidateNamesTheField) {
  auto fails_on = [](PreprocessConfig c, const std::string& field) {
    try {
      c.validate();
      ADD_FAILURE() << field << ": accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("preprocess." + field + ":"), std::string::npos)
          << e.what();
    }
  };
  PreprocessConfig c;
  c.validate();
  fails_on(
      [] {
        PreprocessConfig x;
        x.sr = 0;
        return x;
      }(),
      "sr");
  // libebur128 measures loudness from 16 Hz to 2822400 Hz only
  for (const int sr : {15, 2822401, 2000000000}) {
    PreprocessConfig x;
    x.sr = sr;
    fails_on(x, "sr");
  }
  for (const int sr : {16, 2822400}) {
    PreprocessConfig x;
    x.sr = sr;
    x.chunk_s = 1;
    x.chunk_hop_s = 1;
    EXPECT_NO_THROW(x.validate()) << sr;
  }
  // a chunk of more than 2^31 - 1 samples
  PreprocessConfig huge;
  huge.chunk_s = 1e9;
  fails_on(huge, "chunk_s");
  fails_on(
      [] {
        PreprocessConfig x;
        x.top_db = -1;
        return x;
      }(),
      "top_db");
  fails_on(
      [] {
        PreprocessConfig x;
        x.hop_length = 0;
        return x;
      }(),
      "hop_length");
  fails_on(
      [] {
        PreprocessConfig x;
        x.normalize = "rms";
        return x;
      }(),
      "normalize");
  fails_on(
      [] {
        PreprocessConfig x;
        x.true_peak_db = 0.5;
        return x;
      }(),
      "true_peak_db");
  fails_on(
      [] {
        PreprocessConfig x;
        x.chunk_s = 0;
        return x;
      }(),
      "chunk_s");
  fails_on(
      [] {
        PreprocessConfig x;
        x.last_chunk = "keep";
        return x;
      }(),
      "last_chunk");
  fails_on(
      [] {
        PreprocessConfig x;
        x.min_last_fraction = 1.5;
        return x;
      }(),
      "min_last_fraction");
}

TEST(PreprocConfig, FromTomlReadsEveryFieldAndRejectsBadValues) {
  const toml::table t = toml::parse(R"(
[preprocess]
sr = 22050
stream = 2
trim = false
top_db = 40
frame_length = 1024
hop_length = 256
normalize = "peak"
target_lufs = -16
peak_db = -3
true_peak_db = -2
chunk_s = 5
chunk_hop_s = 2.5
last_chunk = "drop"
min_last_fraction = 0.25
)");
  const config::Section s = config::Section(&t, "p.toml").section("preprocess");
  PreprocessConfig c;
  preprocess::from_toml(s, c);
  s.check_unknown();
  EXPECT_EQ(c.sr, 22050);
  EXPECT_EQ(c.stream, 2);
  EXPECT_FALSE(c.trim);
  EXPECT_EQ(c.top_db, 40);
  EXPECT_EQ(c.frame_length, 1024);
  EXPECT_EQ(c.hop_length, 256);
  EXPECT_EQ(c.normalize, "peak");
  EXPECT_EQ(c.target_lufs, -16);
  EXPECT_EQ(c.peak_db, -3);
  EXPECT_EQ(c.true_peak_db, -2);
  EXPECT_EQ(c.chunk_s, 5);
  EXPECT_EQ(c.chunk_hop_s, 2.5);
  EXPECT_EQ(c.last_chunk, "drop");
  EXPECT_EQ(c.min_last_fraction, 0.25);
  // to_string writes TOML that reads back the same
  const toml::table back = toml::parse("[preprocess]\n" + preprocess::to_string(c));
  PreprocessConfig d;
  preprocess::from_toml(config::Section(&back, "back").section("preprocess"), d);
  EXPECT_EQ(preprocess::to_string(d), preprocess::to_string(c));

  const toml::table bad = toml::parse("[preprocess]\nhop_length = -5\n");
  PreprocessConfig e;
  try {
    preprocess::from_toml(config::Section(&bad, "bad.toml").section("preprocess"), e);
    ADD_FAILURE() << "hop_length = -5 accepted";
  } catch (const ConfigError& err) {
    EXPECT_NE(std::string(err.what()).find("bad.toml:2: preprocess.hop_length"), std::string::npos)
        << err.what();
  }
  const toml::table unknown = toml::parse("[preprocess]\ntopdb = 30\n");
  const config::Section su = config::Section(&unknown, "u.toml").section("preprocess");
  PreprocessConfig f;
  preprocess::from_toml(su, f);
  EXPECT_THROW(su.check_unknown(), ConfigError);
}

// --- trimming ------------------------------------------------------------------------------

// 1 s of zeros, 2 s of a 440 Hz sine, 1.5 s of zeros at 16 kHz. By hand: frame t covers
// [512t - 1024, 512t + 1024); the first touching the sine (sample 16000) is t = 30 and the last
// is t = 95 (starts at 47616 < 48000), each holding hundreds of sine samples, far above
// -60 dB of the peak frame. So librosa keeps [30*512, 96*512) = [15360, 49152).
TEST(PreprocTrim, KnownSilentMarginsByHand) {
  TempDir dir;
  const int sr = 16000;
  const std::vector<float> x = concat(
      {std::vector<float>(16000, 0.0f), sine(440, 0.5, sr, 2.0), std::vector<float>(24000, 0.0f)});
  write_wav_float(dir / "m.wav", x, sr);
  EXPECT_EQ(librosa_trim(x, 60, 2048, 512), (std::pair<int64_t, int64_t>{15360, 49152}));

  PreprocessConfig c = no_processing();
  c.trim = true;
  preprocess::FileReport rep;
  const std::vector<float> y = preprocess::process_whole((dir / "m.wav").string(), c, &rep);
  EXPECT_DOUBLE_EQ(rep.duration_s, 72000.0 / sr);
  EXPECT_DOUBLE_EQ(rep.trim_start_s, 15360.0 / sr);
  EXPECT_DOUBLE_EQ(rep.trim_end_s, 49152.0 / sr);
  EXPECT_DOUBLE_EQ(rep.gain_db, 0.0);
  EXPECT_TRUE(std::isnan(rep.input_lufs));
  EXPECT_TRUE(
      all_close("trimmed", y, std::vector<float>(x.begin() + 15360, x.begin() + 49152), 0.0, 0.0));
}

struct TrimCase {
  const char* name;
  double top_db;
  int frame_length;
  int hop_length;
};

class PreprocTrimLibrosa : public ::testing::TestWithParam<TrimCase> {};

// Noise margins 30 dB and 50 dB below a burst whose envelope fades in and out, lengths that are
// no multiple of the hop, odd frame lengths: the streamed trim keeps what librosa's rule keeps.
TEST_P(PreprocTrimLibrosa, OnNoisyMargins) {
  const TrimCase& tc = GetParam();
  TempDir dir;
  const int sr = 16000;
  std::vector<float> x =
      concat({noise(12345, 0.003, 1), noise(40001, 0.1, 2), noise(7777, 0.0003, 3)});
  for (size_t i = 12345; i < 12345 + 40001; ++i) {  // 0.3 s fades
    const double t = static_cast<double>(std::min(i - 12345, 12345 + 40001 - i)) / (0.3 * sr);
    x[i] *= static_cast<float>(std::min(1.0, t));
  }
  write_wav_float(dir / "n.wav", x, sr);
  const auto [start, end] = librosa_trim(x, tc.top_db, tc.frame_length, tc.hop_length);
  PreprocessConfig c = no_processing();
  c.trim = true;
  c.top_db = tc.top_db;
  c.frame_length = tc.frame_length;
  c.hop_length = tc.hop_length;
  preprocess::FileReport rep;
  const std::vector<float> y = preprocess::process_whole((dir / "n.wav").string(), c, &rep);
  EXPECT_EQ(std::llround(rep.trim_start_s * sr), start);
  EXPECT_EQ(std::llround(rep.trim_end_s * sr), end);
  EXPECT_TRUE(
      all_close("trimmed", y, std::vector<float>(x.begin() + start, x.begin() + end), 0.0, 0.0));
}

INSTANTIATE_TEST_SUITE_P(Configs, PreprocTrimLibrosa,
                         ::testing::Values(TrimCase{"default", 60, 2048, 512},
                                           TrimCase{"db20", 20, 2048, 512},
                                           TrimCase{"db40_odd", 40, 999, 256},
                                           TrimCase{"db45_hop_gt_half", 45, 1000, 700}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- chunking -------------------------------------------------------------------------------

struct ChunkCase {
  const char* name;
  int64_t n;  // samples at 16 kHz; chunk_s = 1 s = 16000 samples
  double hop_s;
  const char* last_chunk;
  double min_last_fraction;
  std::vector<double> offsets;    // expected, by hand
  std::vector<double> durations;  // expected, by hand
};

class PreprocChunking : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(PreprocChunking, CountsOffsetsAndContent) {
  const ChunkCase& cc = GetParam();
  TempDir dir;
  const std::vector<float> x = noise(static_cast<size_t>(cc.n), 0.1, 21);
  write_wav_float(dir / "c.wav", x, 16000);
  PreprocessConfig c = no_processing();
  c.chunk_s = 1.0;
  c.chunk_hop_s = cc.hop_s;
  c.last_chunk = cc.last_chunk;
  c.min_last_fraction = cc.min_last_fraction;
  std::vector<preprocess::Chunk> chunks;
  const preprocess::FileReport rep =
      preprocess::process_file((dir / "c.wav").string(), c,
                               [&](preprocess::Chunk&& ch) { chunks.push_back(std::move(ch)); });
  ASSERT_EQ(chunks.size(), cc.offsets.size());
  EXPECT_EQ(rep.chunks, static_cast<int64_t>(chunks.size()));
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto& ch = chunks[i];
    EXPECT_EQ(ch.index, static_cast<int64_t>(i));
    EXPECT_EQ(ch.source, (dir / "c.wav").string());
    EXPECT_NEAR(ch.offset_s, cc.offsets[i], 1e-12) << "chunk " << i;
    EXPECT_NEAR(ch.duration_s, cc.durations[i], 1e-12) << "chunk " << i;
    ASSERT_EQ(ch.samples.size(), 16000u);
    const auto off = static_cast<size_t>(std::llround(ch.offset_s * 16000));
    const auto len = static_cast<size_t>(std::llround(ch.duration_s * 16000));
    std::vector<float> want(16000, 0.0f);
    std::copy(x.begin() + off, x.begin() + off + len, want.begin());
    EXPECT_TRUE(all_close("chunk " + std::to_string(i), ch.samples, want, 0.0, 0.0));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EdgeLengths, PreprocChunking,
    ::testing::Values(ChunkCase{"exactly_one", 16000, 1, "pad", 0.5, {0}, {1}},
                      ChunkCase{"one_sample_short", 15999, 1, "pad", 0.5, {0}, {15999 / 16000.0}},
                      ChunkCase{"just_under_half", 7999, 1, "pad", 0.5, {}, {}},
                      ChunkCase{"exactly_half", 8000, 1, "pad", 0.5, {0}, {0.5}},
                      ChunkCase{"half_dropped", 8000, 1, "drop", 0.5, {}, {}},
                      ChunkCase{"two_and_half_drop", 40000, 1, "drop", 0.5, {0, 1}, {1, 1}},
                      ChunkCase{"two_and_half_pad", 40000, 1, "pad", 0.5, {0, 1, 2}, {1, 1, 0.5}},
                      ChunkCase{
                          "overlap", 32000, 0.5, "pad", 0.5, {0, 0.5, 1, 1.5}, {1, 1, 1, 0.5}},
                      ChunkCase{"gap", 35200, 1.5, "pad", 0.5, {0, 1.5}, {1, 0.7}},
                      ChunkCase{"gap_tail_in_gap", 20000, 1.5, "pad", 0.0, {0}, {1}},
                      ChunkCase{"fraction_zero", 16001, 1, "pad", 0.0, {0, 1}, {1, 1 / 16000.0}},
                      ChunkCase{"fraction_one", 31999, 1, "pad", 1.0, {0}, {1}}),
    [](const auto& info) { return std::string(info.param.name); });

// Offsets are in the source's time: after trimming the margins of KnownSilentMarginsByHand,
// the first chunk starts at 15360/16000 s, and its samples are the source's from there.
TEST(PreprocChunkOffsets, OffsetsInSourceTimeAfterTrim) {
  TempDir dir;
  const std::vector<float> x = concat({std::vector<float>(16000, 0.0f), sine(440, 0.5, 16000, 2.0),
                                       std::vector<float>(24000, 0.0f)});
  write_wav_float(dir / "m.wav", x, 16000);
  PreprocessConfig c = no_processing();
  c.trim = true;
  c.chunk_s = 1;
  c.chunk_hop_s = 1;
  std::vector<preprocess::Chunk> chunks;
  preprocess::process_file((dir / "m.wav").string(), c,
                           [&](preprocess::Chunk&& ch) { chunks.push_back(std::move(ch)); });
  // kept 33792 samples: 2 full chunks, then 1792 (0.112 of a chunk) dropped by the 0.5 rule
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_DOUBLE_EQ(chunks[0].offset_s, 0.96);
  EXPECT_DOUBLE_EQ(chunks[1].offset_s, 1.96);
  EXPECT_TRUE(all_close("chunk 1", chunks[1].samples,
                        std::vector<float>(x.begin() + 31360, x.begin() + 47360), 0.0, 0.0));
}

// A file longer than what is kept in memory between passes (8.4 M samples at the output rate)
// is decoded again for each pass; the result is the same as from the whole file in memory.
TEST(PreprocStreaming, LongFileDecodedPerPass) {
  TempDir dir;
  const int sr = 16000;
  const size_t n = 8'600'000;  // 9 min
  std::vector<float> x = noise(n, 0.05, 5);
  std::fill(x.begin(), x.begin() + sr, 0.0f);
  std::fill(x.end() - sr, x.end(), 0.0f);
  write_audio(dir / "long.wav", x, 1, sr, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const std::vector<float> decoded = io::load_mono((dir / "long.wav").string(), sr);
  const auto [start, end] = librosa_trim(decoded, 60, 2048, 512);

  PreprocessConfig c;
  c.chunk_s = 10;
  c.chunk_hop_s = 10;
  c.min_last_fraction = 0;
  std::vector<float> joined;
  int64_t count = 0;
  std::vector<double> analysed;  // seconds, as the analysis pass reports them
  const preprocess::FileReport rep = preprocess::process_file(
      (dir / "long.wav").string(), c,
      [&](preprocess::Chunk&& ch) {
        EXPECT_NEAR(ch.offset_s, static_cast<double>(start) / sr + 10.0 * count++, 1e-9);
        joined.insert(joined.end(), ch.samples.begin(),
                      ch.samples.begin() + std::llround(ch.duration_s * sr));
      },
      [&](double s) {
        EXPECT_EQ(count, 0) << "analysis progress after a chunk";
        analysed.push_back(s);
      });
  // block by block, rising, to the whole decoded file
  ASSERT_GT(analysed.size(), 10u);
  EXPECT_TRUE(std::is_sorted(analysed.begin(), analysed.end()));
  EXPECT_GT(analysed.front(), 0.0);
  EXPECT_DOUBLE_EQ(analysed.back(), static_cast<double>(decoded.size()) / sr);
  EXPECT_DOUBLE_EQ(analysed.back(), rep.duration_s);
  EXPECT_EQ(std::llround(rep.trim_start_s * sr), start);
  EXPECT_EQ(std::llround(rep.trim_end_s * sr), end);
  const auto gain = static_cast<float>(std::pow(10.0, rep.gain_db / 20));
  std::vector<float> want(decoded.begin() + start, decoded.begin() + end);
  for (auto& v : want) v *= gain;
  EXPECT_TRUE(all_close("long", joined, want, 0.0, 0.0));
  EXPECT_NEAR(measure(joined, sr).lufs, -23.0, 0.1);
  // measured block by block (the cache given up), then again over the kept interval: the value
  // of one libebur128 pass over the kept samples
  ebur128_state* st = ebur128_init(1, sr, EBUR128_MODE_I);
  ebur128_add_frames_float(st, decoded.data() + start, static_cast<size_t>(end - start));
  double lufs = 0;
  ebur128_loudness_global(st, &lufs);
  ebur128_destroy(&st);
  EXPECT_EQ(rep.input_lufs, lufs);
}

// --- bad input ------------------------------------------------------------------------------

// Expects process_file to throw InputError naming `path` and containing `reason`.
void expect_input_error(const std::filesystem::path& path, const std::string& reason,
                        const PreprocessConfig& cfg = {}) {
  try {
    preprocess::process_file(path.string(), cfg, [](preprocess::Chunk&&) {});
    ADD_FAILURE() << path << ": no error (wanted '" << reason << "')";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'" + path.string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(reason), std::string::npos) << "wanted '" << reason << "' in: " << what;
  }
}

TEST(PreprocBadInput, ZeroLength) {
  TempDir dir;
  write_wav_float(dir / "zero.wav", {}, 44100);
  expect_input_error(dir / "zero.wav", "zero length");
}

TEST(PreprocBadInput, AllSilence) {
  TempDir dir;
  write_wav_float(dir / "zeros.wav", std::vector<float>(32000, 0.0f), 16000);
  expect_input_error(dir / "zeros.wav", "all silence");
  // frame RMS 7e-7, below librosa's amin (1e-5): silence too
  write_wav_float(dir / "hiss.wav", sine(300, 1e-6, 16000, 2.0), 16000);
  expect_input_error(dir / "hiss.wav", "all silence", no_processing());
}

// -75 dBFS is below the -70 LUFS absolute gate: loudness cannot be measured; peak
// normalisation takes it. A 0.3 s clip, shorter than one 0.4 s block, takes the ungated fallback.
TEST(PreprocBadInput, LoudnessNotMeasurable) {
  TempDir dir;
  write_wav_float(dir / "quiet.wav", sine(1000, 1.8e-4, 16000, 3.0), 16000);
  expect_input_error(dir / "quiet.wav", "loudness not measurable");
  PreprocessConfig peak;
  peak.normalize = "peak";
  EXPECT_FALSE(preprocess::process_whole((dir / "quiet.wav").string(), peak).empty());
}

TEST(PreprocBadInput, NanSample) {
  TempDir dir;
  std::vector<float> x = sine(440, 0.5, 16000, 1.0);
  x[100] = std::nanf("");
  write_wav_float(dir / "nan.wav", x, 16000);
  expect_input_error(dir / "nan.wav", "NaN sample");
  x[100] = INFINITY;
  write_wav_float(dir / "inf.wav", x, 16000);
  expect_input_error(dir / "inf.wav", "infinite sample");
}

TEST(PreprocBadInput, MissingCorruptTruncated) {
  TempDir dir;
  expect_input_error(dir / "missing.flac", "no such file");
  std::ofstream(dir / "junk.ogg", std::ios::binary) << std::string(5000, '\x7f');
  expect_input_error(dir / "junk.ogg", "");
  write_audio(dir / "cut.flac", noise(64000, 0.1, 2), 1, 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::filesystem::resize_file(dir / "cut.flac", std::filesystem::file_size(dir / "cut.flac") / 3);
  expect_input_error(dir / "cut.flac", "truncated");
}

TEST(PreprocBadInput, NoAudioStream) {
  if (!can_test_video()) GTEST_SKIP() << "built without FFmpeg, or no ffmpeg command on PATH";
  TempDir dir;
  ASSERT_TRUE(ffmpeg("-f lavfi -i testsrc=size=32x32:rate=5:duration=1 -c:v mpeg4 '" +
                     (dir / "v.mp4").string() + "'"));
  expect_input_error(dir / "v.mp4", "no audio stream");
}

}  // namespace
}  // namespace hptrain::test
