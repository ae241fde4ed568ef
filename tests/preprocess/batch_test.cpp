// run_preprocess on a folder of mixed audio and video files: chunk WAVs, chunks.csv, the
// summary of skipped files, and no output in place of good output when a file fails.
#include <sys/stat.h>

#include <fstream>

#include "hptrain/error.h"
#include "hptrain/preprocess/preprocess.h"
#include "io/audio_fixtures.h"
#include "support/support.h"

namespace hptrain::test {
namespace {

namespace stdfs = std::filesystem;

const preprocess::SkippedFile* find_skipped(const preprocess::PreprocessSummary& s,
                                            const std::string& name) {
  for (const auto& k : s.skipped) {
    if (stdfs::path(k.source).filename() == name) return &k;
  }
  return nullptr;
}

// in/: a.wav (44.1 kHz stereo, 4 s tone between silences), music/b.flac (48 kHz, 3.5 s noise),
// film.mkv (video + AAC, when ffmpeg is there), bad.wav (junk), silent.wav, notes.txt, and the
// output folder itself inside in/ (not read back as input).
TEST(PreprocBatch, FolderOfMixedFiles) {
  TempDir dir;
  const stdfs::path in = dir / "in";
  stdfs::create_directories(in / "music");
  const std::vector<float> tone = sine(440, 0.3, 44100, 4.0);
  std::vector<float> l(44100, 0.0f);
  l.insert(l.end(), tone.begin(), tone.end());
  l.resize(l.size() + 44100, 0.0f);
  write_audio(in / "a.wav", interleave({l, l}), 2, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  write_audio(in / "music" / "b.flac", noise(48000 * 7 / 2, 0.1, 3), 1, 48000,
              SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
  const bool video = can_test_video() && ffmpeg(
                                             "-f lavfi -i testsrc=size=32x32:rate=5:duration=3 "
                                             "-f lavfi -i sine=frequency=500:duration=3 -c:v "
                                             "mpeg4 -c:a aac '" +
                                             (in / "film.mkv").string() + "'");
  std::ofstream(in / "bad.wav", std::ios::binary) << std::string(3000, 'x');
  write_wav_float(in / "silent.wav", std::vector<float>(16000, 0.0f), 16000);
  std::ofstream(in / "notes.txt") << "not audio\n";

  preprocess::PreprocessOptions opts;
  opts.input = in;
  opts.out = in / "out";
  for (int run = 0; run < 2; ++run) {  // the second run must not take out/ as input
    const preprocess::PreprocessSummary s = preprocess::run_preprocess(opts);
    EXPECT_EQ(s.files, video ? 5 : 4);
    EXPECT_EQ(s.converted, video ? 3 : 2);
    ASSERT_EQ(s.skipped.size(), 2u);
    const auto* bad = find_skipped(s, "bad.wav");
    ASSERT_NE(bad, nullptr);
    EXPECT_NE(bad->reason.find((in / "bad.wav").string()), std::string::npos) << bad->reason;
    const auto* silent = find_skipped(s, "silent.wav");
    ASSERT_NE(silent, nullptr);
    EXPECT_NE(silent->reason.find("all silence"), std::string::npos) << silent->reason;

    // a.wav keeps ~4.1 s after trimming: one 3 s chunk, the ~1.1 s rest is under half a chunk;
    // b.flac 3.5 s: one chunk, 0.5 s rest dropped; film.mkv 3 s: one chunk.
    const auto rows = read_csv(opts.out / "chunks.csv");
    ASSERT_EQ(rows.size(), 1u + static_cast<size_t>(s.chunks));
    EXPECT_EQ(rows[0], (std::vector<std::string>{"chunk", "source", "offset_s", "duration_s"}));
    EXPECT_EQ(s.chunks, video ? 3 : 2);
    std::vector<std::string> names;
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), 4u);
      names.push_back(rows[i][0]);
      SF_INFO info;
      const std::vector<float> y = read_audio(opts.out / rows[i][0], &info);
      EXPECT_EQ(info.samplerate, 16000);
      EXPECT_EQ(info.channels, 1);
      EXPECT_EQ(y.size(), 48000u);
      EXPECT_TRUE(stdfs::exists(rows[i][1])) << rows[i][1];
    }
    std::vector<std::string> want = {"a.wav.000000.wav"};
    if (video) want.push_back("film.mkv.000000.wav");
    want.push_back("music/b.flac.000000.wav");
    EXPECT_EQ(names, want);
    // a.wav's tone starts at 1 s; trim keeps from the first frame reaching it
    EXPECT_EQ(rows[1][1], (in / "a.wav").generic_string());
    EXPECT_NEAR(std::stod(rows[1][2]), 1.0, 0.07);
    EXPECT_EQ(std::stod(rows[1][3]), 3.0);
    EXPECT_FALSE(stdfs::exists(opts.out / "bad.wav.000000.wav"));
  }
}

// When nothing converts, chunks.csv from an earlier run is left as it was.
TEST(PreprocBatch, NothingConvertedKeepsEarlierOutput) {
  TempDir dir;
  stdfs::create_directories(dir / "in");
  write_wav_float(dir / "in" / "zeros.wav", std::vector<float>(8000, 0.0f), 16000);
  stdfs::create_directories(dir / "out");
  std::ofstream(dir / "out" / "chunks.csv") << "earlier\n";
  preprocess::PreprocessOptions opts;
  opts.input = dir / "in";
  opts.out = dir / "out";
  const preprocess::PreprocessSummary s = preprocess::run_preprocess(opts);
  EXPECT_EQ(s.converted, 0);
  ASSERT_EQ(s.skipped.size(), 1u);
  std::ifstream csv(dir / "out" / "chunks.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "earlier");
}

// A single file as input; too short for a chunk is reported, not an error.
TEST(PreprocBatch, SingleFileAndTooShort) {
  TempDir dir;
  write_wav_float(dir / "short.wav", sine(440, 0.3, 16000, 1.0), 16000);
  preprocess::PreprocessOptions opts;
  opts.input = dir / "short.wav";
  opts.out = dir / "out";
  const preprocess::PreprocessSummary s = preprocess::run_preprocess(opts);
  EXPECT_EQ(s.files, 1);
  EXPECT_EQ(s.converted, 0);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_NE(s.skipped[0].reason.find("too short"), std::string::npos) << s.skipped[0].reason;
  opts.config.min_last_fraction = 0.25;
  const preprocess::PreprocessSummary t = preprocess::run_preprocess(opts);
  EXPECT_EQ(t.converted, 1);
  EXPECT_TRUE(stdfs::exists(dir / "out" / "short.wav.000000.wav"));
}

TEST(PreprocBatch, MissingOrEmptyInputIsAnError) {
  TempDir dir;
  preprocess::PreprocessOptions opts;
  opts.input = dir / "nowhere";
  opts.out = dir / "out";
  EXPECT_THROW(preprocess::run_preprocess(opts), InputError);
  stdfs::create_directories(dir / "empty");
  std::ofstream(dir / "empty" / "readme.md") << "x";
  opts.input = dir / "empty";
  EXPECT_THROW(preprocess::run_preprocess(opts), InputError);
}

// A FIFO (or device) as --input is refused by name before anything opens it: a FIFO without a
// writer would block the reader forever. (A FIFO inside a folder is not a media file there.)
TEST(PreprocBatch, AnInputThatIsNotARegularFileIsRefused) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir / "pipe.wav").c_str(), 0600), 0);
  preprocess::PreprocessOptions opts;
  opts.out = dir / "out";
  for (const stdfs::path& input : {dir / "pipe.wav", stdfs::path("/dev/null")}) {
    opts.input = input;
    try {
      preprocess::run_preprocess(opts);
      ADD_FAILURE() << input << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(
          std::string(e.what()).find("--input '" + input.string() + "': not a regular file ("),
          std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(stdfs::exists(dir / "out"));
}

}  // namespace
}  // namespace hptrain::test
