// hptrain::io on bad input: missing, unreadable, blocking, corrupt or truncated files and absurd
// headers; every error names the file and the reason.
#include "hptrain/io/audio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "hptrain/error.h"
#include "io/audio_fixtures.h"
#include "support/support.h"

namespace hptrain::test {
namespace {

// Expects load_mono(path) to throw InputError naming the file and containing `reason`.
void expect_input_error(const std::filesystem::path& path, const std::string& reason) {
  try {
    io::load_mono(path.string(), 16000);
    ADD_FAILURE() << path << ": no error (wanted '" << reason << "')";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'" + path.string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(reason), std::string::npos) << "wanted '" << reason << "' in: " << what;
  }
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(IoBadInput, MissingFile) {
  TempDir dir;
  expect_input_error(dir / "nope.wav", "no such file");
}

TEST(IoBadInput, Directory) {
  TempDir dir;
  std::filesystem::create_directory(dir / "d.wav");
  expect_input_error(dir / "d.wav", "is a directory");
}

// A FIFO without a writer, or a device, is refused at once: opening a FIFO for reading blocks
// until someone writes. A guard thread opens the FIFO's other end after kGrace, so a decoder that
// blocks ends (and the test fails on time) instead of hanging.
TEST(IoBadInput, NotARegularFileIsRefusedWithoutBlocking) {
  constexpr auto kGrace = std::chrono::seconds(3);
  TempDir dir;
  const auto fifo = dir / "pipe.wav";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::atomic<bool> done{false};
  std::thread guard([&] {
    const auto deadline = std::chrono::steady_clock::now() + kGrace;
    while (!done) {
      if (std::chrono::steady_clock::now() > deadline) {
        const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  expect_input_error(fifo, "not a regular file (a FIFO)");
  const auto waited = std::chrono::steady_clock::now() - t0;
  done = true;
  guard.join();
  EXPECT_LT(waited, kGrace) << "the FIFO was opened";
  EXPECT_EQ(io::input_file_problem(fifo), "not a regular file (a FIFO)");
  EXPECT_EQ(io::input_file_problem("/dev/null"), "not a regular file (a character device)");
  // a symbolic link is followed: to a FIFO it is refused, to a file it is that file
  std::filesystem::create_symlink(fifo, dir / "link.wav");
  expect_input_error(dir / "link.wav", "not a regular file (a FIFO)");
  write_audio(dir / "tone.wav", sine(440, 0.5, 16000, 0.1), 1, 16000,
              SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  std::filesystem::create_symlink(dir / "tone.wav", dir / "tone-link.wav");
  EXPECT_EQ(io::input_file_problem(dir / "tone-link.wav"), "");
  EXPECT_EQ(io::load_mono((dir / "tone-link.wav").string(), 16000).size(), 1600u);
}

// OS errors are reported as the OS says them, not as a missing or corrupt file.
TEST(IoBadInput, OsErrorsNameTheirReason) {
  TempDir dir;
  std::filesystem::create_symlink(dir / "loop.wav", dir / "loop.wav");
  expect_input_error(dir / "loop.wav", "Too many levels of symbolic links");
  write_bytes(dir / "plain.txt", "text");
  expect_input_error(dir / "plain.txt" / "a.wav", "Not a directory");
  // a file this process may not read (as root, a child that became `nobody` tries)
  const auto locked = dir / "locked.wav";
  write_audio(locked, sine(440, 0.5, 16000, 0.1), 1, 16000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && setuid(65534) != 0) _exit(2);
    std::string what = "no error";
    try {
      io::load_mono(locked.string(), 16000);
    } catch (const std::exception& e) {
      what = e.what();
    }
    const ssize_t n = write(fds[1], what.data(), what.size());
    _exit(n == static_cast<ssize_t>(what.size()) ? 0 : 3);
  }
  close(fds[1]);
  std::string what;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    what.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(what.find("'" + locked.string() + "': Permission denied"), std::string::npos) << what;
}

TEST(IoBadInput, CorruptBytes) {
  TempDir dir;
  std::string junk(20000, '\0');
  std::mt19937 gen(5);
  for (auto& c : junk) c = static_cast<char>(gen() & 0xff);
  write_bytes(dir / "junk.wav", junk);
  expect_input_error(dir / "junk.wav", "");
  write_bytes(dir / "empty.flac", "");
  expect_input_error(dir / "empty.flac", "");
}

// The header promises more frames than the file holds.
TEST(IoBadInput, TruncatedFlac) {
  TempDir dir;
  write_audio(dir / "t.flac", noise(160000, 0.2, 4), 1, 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const auto size = std::filesystem::file_size(dir / "t.flac");
  std::filesystem::resize_file(dir / "t.flac", size / 2);
  expect_input_error(dir / "t.flac", "truncated");
}

TEST(IoBadInput, TruncatedWav) {
  TempDir dir;
  write_audio(dir / "t.wav", noise(160000, 0.2, 4), 1, 16000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const auto size = std::filesystem::file_size(dir / "t.wav");
  std::filesystem::resize_file(dir / "t.wav", size / 2);
  expect_input_error(dir / "t.wav", "truncated");
}

// A header claiming 1 Hz (or 8 Hz, below io::kMinSourceRate) is refused, naming the rate:
// decoding it would resample each sample into 16000 (an 80 KB file took over 30 s and ~1 GB
// a block before this check).
TEST(IoBadInput, AbsurdSourceRateIsRefused) {
  TempDir dir;
  for (const int rate : {1, 8, io::kMinSourceRate - 1}) {
    const auto path = dir / ("r" + std::to_string(rate) + ".wav");
    write_audio(path, noise(20000, 0.2, 5), 1, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    expect_input_error(path, "source sample rate " + std::to_string(rate) + " Hz");
  }
}

// At the lowest source rate and a high output rate (ratio 3000) the reader's buffers stay
// within a few decode blocks while it reads, instead of one soxr output buffer the size of a
// resampled block (1.2 M floats here, 23 G at 16 Hz -> 2822400 Hz with a full block); the
// output is still the sine that went in.
TEST(IoResample, ExtremeRatioKeepsBuffersBounded) {
  TempDir dir;
  const int sr_in = io::kMinSourceRate, sr_out = 48000;
  const double f = 1.0, amp = 0.5;
  write_wav_float(dir / "in.wav", sine(f, amp, sr_in, 25.0), sr_in);  // 400 samples
  io::MonoReader reader((dir / "in.wav").string(), sr_out);
  std::vector<float> y;
  std::vector<float> buf(1000);
  size_t most = 0;
  for (size_t n; (n = reader.read(buf.data(), buf.size())) > 0;) {
    y.insert(y.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    most = std::max(most, reader.buffer_capacity());
  }
  EXPECT_LE(most, 3u * (1u << 15)) << "floats held by the reader's buffers";
  EXPECT_NEAR(static_cast<double>(y.size()), 25.0 * sr_out, 1.0);
  const size_t b = 2 * sr_out, e = y.size() - 2 * sr_out;
  EXPECT_NEAR(measure_frequency(y, sr_out, f, b, e), f, 1e-4);
  const SineFit fit = fit_sine(y, sr_out, f, b, e);
  EXPECT_NEAR(20 * std::log10(fit.amplitude / amp), 0.0, 0.05);
  EXPECT_LT(20 * std::log10(fit.residual_rms / fit.amplitude), -80.0);
}

// An OGG's length in libsndfile is the last page's granule position, not a count in a header:
// this Debian file (a demo-corpus source, installed by scripts/setup.sh) decodes 5806 frames
// short of it, and is whole (it plays to its end in every player).
TEST(IoOgg, GranuleLengthIsAnEstimateNotATruncation) {
  const std::string path = "/usr/share/games/wesnoth/1.16/data/core/music/northerners.ogg";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "wesnoth-1.16-music is not installed";
  io::MonoReader r(path, 44100);  // its own rate: no resampling
  ASSERT_EQ(r.info().sample_rate, 44100);
  ASSERT_EQ(r.info().frames, 9135516);
  std::vector<float> buf(1 << 16);
  int64_t got = 0;
  for (size_t n; (n = r.read(buf.data(), buf.size())) > 0;) got += static_cast<int64_t>(n);
  EXPECT_EQ(got, 9129710);
}

TEST(IoBadInput, NanAndInfiniteSamples) {
  TempDir dir;
  std::vector<float> x = sine(440, 0.5, 16000, 1.0);
  x[8000] = std::nanf("");
  write_wav_float(dir / "nan.wav", x, 16000);
  expect_input_error(dir / "nan.wav", "NaN sample at 0.5");
  x[8000] = 0;
  x[4000] = -INFINITY;
  write_wav_float(dir / "inf.wav", x, 16000);
  expect_input_error(dir / "inf.wav", "infinite sample at 0.25");
}

// A RIFF/WAVE header whose format tag (0x3039) no decoder knows.
TEST(IoBadInput, UnsupportedSampleFormat) {
  TempDir dir;
  std::string wav = "RIFF";
  auto u32 = [](uint32_t v) {
    return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  };
  auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  const std::string data(4000, '\x11');
  wav += u32(36 + static_cast<uint32_t>(data.size())) + "WAVEfmt " + u32(16) + u16(0x3039) +
         u16(1) + u32(16000) + u32(32000) + u16(2) + u16(16) + "data" +
         u32(static_cast<uint32_t>(data.size())) + data;
  write_bytes(dir / "odd.wav", wav);
  expect_input_error(dir / "odd.wav", "");
}

TEST(IoBadInput, NotMediaAtAll) {
  TempDir dir;
  write_bytes(dir / "notes.txt", "just some text, not audio\n");
  expect_input_error(dir / "notes.txt", "");
}

TEST(IoBadInput, NoAudioStream) {
  if (!can_test_video()) GTEST_SKIP() << "built without FFmpeg, or no ffmpeg command on PATH";
  TempDir dir;
  ASSERT_TRUE(ffmpeg("-f lavfi -i testsrc=size=32x32:rate=5:duration=1 -c:v mpeg4 '" +
                     (dir / "silent_film.mkv").string() + "'"));
  expect_input_error(dir / "silent_film.mkv", "no audio stream");
}

TEST(IoBadInput, ZeroLengthDecodesToNothing) {
  TempDir dir;
  write_wav_float(dir / "zero.wav", {}, 16000);
  EXPECT_TRUE(io::load_mono((dir / "zero.wav").string(), 16000).empty());
  EXPECT_TRUE(io::load_mono((dir / "zero.wav").string(), 44100).empty());
}

}  // namespace
}  // namespace hptrain::test
