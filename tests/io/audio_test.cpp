// Decoding (libsndfile and FFmpeg), downmix, soxr resampling and WAV writing of hptrain::io,
// checked against what the test wrote and against fitted sines.
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

// One file format written by libsndfile, and how close its decoding must come.
struct FormatCase {
  const char* name;
  const char* ext;
  int format;
  bool lossless;
};

class IoRoundTrip : public ::testing::TestWithParam<FormatCase> {};

// A 16 kHz mono 440 Hz sine written in each format decodes to the same length and signal:
// exactly (float WAV), within 16-bit quantisation (FLAC), or as the same sine (lossy codecs).
TEST_P(IoRoundTrip, DecodesWhatWasWritten) {
  const FormatCase& fc = GetParam();
  TempDir dir;
  const int sr = 16000;
  const std::vector<float> x = sine(440, 0.5, sr, 2.0);
  const auto path = dir / (std::string("tone.") + fc.ext);
  write_audio(path, x, 1, sr, fc.format);

  io::MonoReader reader(path.string(), sr);
  EXPECT_EQ(reader.info().decoder, "sndfile");
  EXPECT_EQ(reader.info().sample_rate, sr);
  EXPECT_EQ(reader.info().channels, 1);
  const std::vector<float> y = io::load_mono(path.string(), sr);
  if (fc.lossless) {
    ASSERT_EQ(y.size(), x.size());
    // float WAV: exact; FLAC 16-bit: one step (libsndfile writes x*32767, reads back /32768)
    const double atol = (fc.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT ? 0.0 : 1.0 / 32768;
    EXPECT_TRUE(all_close(fc.name, y, x, atol, 0.0));
  } else {
    // codec delay is removed by the decoders (gapless); allow one MP3 granule of slack
    EXPECT_NEAR(static_cast<double>(y.size()), static_cast<double>(x.size()), 1152.0);
    const SineFit fit = fit_sine(y, sr, 440, sr / 4, y.size() - sr / 4);
    EXPECT_NEAR(20 * std::log10(fit.amplitude / 0.5), 0.0, 0.5) << fc.name;
    EXPECT_LT(fit.residual_rms / fit.amplitude, 0.03) << fc.name;  // lossy, but the same tone
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, IoRoundTrip,
    ::testing::Values(FormatCase{"wav", "wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, true},
                      FormatCase{"flac", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, true},
                      FormatCase{"ogg", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, false},
                      FormatCase{"mp3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, false}),
    [](const auto& info) { return std::string(info.param.name); });

// Mono is the mean of the channels: stereo (L, R) -> (L+R)/2, and opposite channels cancel.
TEST(IoDownmix, MeanOfChannels) {
  TempDir dir;
  const int sr = 16000;
  const std::vector<float> l = sine(440, 0.6, sr, 0.5);
  const std::vector<float> r = sine(1000, 0.2, sr, 0.5, 1.0);
  std::vector<float> neg(l.size());
  for (size_t i = 0; i < l.size(); ++i) neg[i] = -l[i];
  std::vector<float> c3 = noise(l.size(), 0.1, 3);

  write_audio(dir / "lr.wav", interleave({l, r}), 2, sr, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  std::vector<float> want(l.size());
  for (size_t i = 0; i < l.size(); ++i) want[i] = (l[i] + r[i]) / 2;
  EXPECT_TRUE(
      all_close("stereo mean", io::load_mono((dir / "lr.wav").string(), sr), want, 1e-7, 0.0));

  write_audio(dir / "cancel.wav", interleave({l, neg}), 2, sr, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_TRUE(all_close("L = -R", io::load_mono((dir / "cancel.wav").string(), sr),
                        std::vector<float>(l.size(), 0.0f), 0.0, 0.0));

  write_audio(dir / "three.wav", interleave({l, r, c3}), 3, sr, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  for (size_t i = 0; i < l.size(); ++i) want[i] = (l[i] + r[i] + c3[i]) / 3;
  io::MonoReader reader((dir / "three.wav").string(), sr);
  EXPECT_EQ(reader.info().channels, 3);
  EXPECT_TRUE(
      all_close("3 channels", io::load_mono((dir / "three.wav").string(), sr), want, 1e-7, 0.0));
}

// Source rate and a tone in the pass band of the 16 kHz output.
struct ResampleCase {
  int sr_in;
  double freq;
};

class IoResample : public ::testing::TestWithParam<ResampleCase> {};

// A sine keeps its frequency (within 0.01 Hz) and amplitude (within 0.05 dB), with what the
// sine does not explain below -80 dB, after soxr HQ to 16 kHz. The ends (filter settling)
// are left out.
TEST_P(IoResample, KeepsFrequencyAndAmplitude) {
  const auto [sr_in, f] = GetParam();
  TempDir dir;
  const double amp = 0.5;
  write_wav_float(dir / "in.wav", sine(f, amp, sr_in, 2.0), sr_in);
  const std::vector<float> y = io::load_mono((dir / "in.wav").string(), 16000);
  EXPECT_NEAR(static_cast<double>(y.size()), 32000.0, 1.0);
  const size_t b = 1600, e = y.size() - 1600;
  EXPECT_NEAR(measure_frequency(y, 16000, f, b, e), f, 0.01);
  const SineFit fit = fit_sine(y, 16000, f, b, e);
  EXPECT_NEAR(20 * std::log10(fit.amplitude / amp), 0.0, 0.05);
  EXPECT_LT(20 * std::log10(fit.residual_rms / fit.amplitude), -80.0);
}

INSTANTIATE_TEST_SUITE_P(ToSixteenKilohertz, IoResample,
                         ::testing::Values(ResampleCase{44100, 100}, ResampleCase{44100, 1000},
                                           ResampleCase{44100, 6000}, ResampleCase{48000, 440},
                                           ResampleCase{48000, 3000}, ResampleCase{48000, 7000},
                                           ResampleCase{8000, 100}, ResampleCase{8000, 1000},
                                           ResampleCase{8000, 3000}),
                         [](const auto& info) {
                           return std::to_string(info.param.sr_in) + "Hz_" +
                                  std::to_string(static_cast<int>(info.param.freq));
                         });

class IoStopBand : public ::testing::TestWithParam<ResampleCase> {};

// Content above the new Nyquist (8 kHz) is attenuated by at least 90 dB; from 8 kHz, the
// image of a 3 kHz tone at 5 kHz likewise. Measured away from the ends.
TEST_P(IoStopBand, AttenuatesAtLeast90dB) {
  const auto [sr_in, f] = GetParam();
  TempDir dir;
  const double amp = 0.5;
  write_wav_float(dir / "in.wav", sine(f, amp, sr_in, 2.0), sr_in);
  const std::vector<float> y = io::load_mono((dir / "in.wav").string(), 16000);
  const size_t b = 1600, e = y.size() - 1600;
  // downsampling: everything left is leakage; upsampling from 8 kHz: the image at sr_in - f
  const double leak =
      sr_in > 16000 ? rms(y, b, e) : fit_sine(y, 16000, sr_in - f, b, e).amplitude / std::sqrt(2.0);
  EXPECT_LT(20 * std::log10(leak / (amp / std::sqrt(2.0))), -90.0) << sr_in << " Hz, " << f;
}

INSTANTIATE_TEST_SUITE_P(ToSixteenKilohertz, IoStopBand,
                         ::testing::Values(ResampleCase{44100, 8500}, ResampleCase{44100, 12000},
                                           ResampleCase{44100, 20000}, ResampleCase{48000, 9000},
                                           ResampleCase{48000, 15000}, ResampleCase{48000, 23000},
                                           ResampleCase{8000, 3000}),
                         [](const auto& info) {
                           return std::to_string(info.param.sr_in) + "Hz_" +
                                  std::to_string(static_cast<int>(info.param.freq));
                         });

// Reading in blocks of any size gives the same samples as one read of everything.
TEST(IoMonoReader, BlockSizesDoNotMatter) {
  TempDir dir;
  write_audio(dir / "in.wav", interleave({noise(100003, 0.2, 1), noise(100003, 0.2, 2)}), 2, 44100,
              SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  const std::vector<float> all = io::load_mono((dir / "in.wav").string(), 16000);
  for (size_t block : {size_t{1}, size_t{7}, size_t{1000}, size_t{65537}}) {
    io::MonoReader r((dir / "in.wav").string(), 16000);
    std::vector<float> got, buf(block);
    for (size_t n; (n = r.read(buf.data(), block)) > 0;)
      got.insert(got.end(), buf.begin(), buf.begin() + n);
    EXPECT_TRUE(all_close("block " + std::to_string(block), got, all, 0.0, 0.0));
  }
}

TEST(IoWriteWav, FloatMonoRoundTripAndNoTemporaryLeft) {
  TempDir dir;
  const std::vector<float> x = noise(12345, 0.3, 9);
  io::write_wav(dir / "sub" / "out.wav", x.data(), x.size(), 16000);
  SF_INFO info;
  const std::vector<float> y = read_audio(dir / "sub" / "out.wav", &info);
  EXPECT_EQ(info.samplerate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_TRUE(all_close("wav", y, x, 0.0, 0.0));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub"))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(IoMediaFiles, ByExtension) {
  EXPECT_TRUE(io::is_media_file("a/b/film.MKV"));
  EXPECT_TRUE(io::is_media_file("x.mkv"));
  EXPECT_TRUE(io::is_media_file("song.flac"));
  EXPECT_TRUE(io::is_media_file("song.Mp3"));
  EXPECT_FALSE(io::is_media_file("notes.txt"));
  EXPECT_FALSE(io::is_media_file("Makefile"));
}

// --- FFmpeg: containers made with the ffmpeg command -------------------------------------

class IoVideo : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!can_test_video()) GTEST_SKIP() << "built without FFmpeg, or no ffmpeg command on PATH";
  }
  TempDir dir_;
};

// An MP4 with a tiny H.264/MPEG-4 video stream first and AAC stereo audio (48 kHz) second:
// the audio stream is found, decoded, downmixed and resampled to the same tone.
TEST_F(IoVideo, Mp4WithAacTrack) {
  const auto wav = dir_ / "src.wav";
  write_audio(wav, interleave({sine(1000, 0.4, 48000, 3.0), sine(1000, 0.4, 48000, 3.0)}), 2, 48000,
              SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const auto mp4 = dir_ / "film.mp4";
  ASSERT_TRUE(ffmpeg("-f lavfi -i testsrc=size=32x32:rate=5:duration=3 -i '" + wav.string() +
                     "' -map 0:v -map 1:a -c:v mpeg4 -c:a aac -b:a 128k '" + mp4.string() + "'"));
  io::MonoReader reader(mp4.string(), 16000);
  EXPECT_EQ(reader.info().decoder, "ffmpeg");
  EXPECT_EQ(reader.info().sample_rate, 48000);
  EXPECT_EQ(reader.info().channels, 2);
  const std::vector<float> y = io::load_mono(mp4.string(), 16000);
  EXPECT_NEAR(static_cast<double>(y.size()), 48000.0, 16000 * 0.05);  // AAC frames: 21 ms
  const SineFit fit = fit_sine(y, 16000, 1000, 4000, y.size() - 4000);
  EXPECT_NEAR(20 * std::log10(fit.amplitude / 0.4), 0.0, 0.5);
  EXPECT_LT(fit.residual_rms / fit.amplitude, 0.03);
}

// An MKV with video (stream 0), AC-3 at 440 Hz (1) and AAC at 880 Hz (2): -1 takes the first
// audio stream, 2 the named one; naming the video stream or a missing one is an error.
TEST_F(IoVideo, MkvStreamSelection) {
  const auto a = dir_ / "a.wav";
  const auto b = dir_ / "b.wav";
  write_wav_float(a, sine(440, 0.3, 48000, 2.0), 48000);
  write_wav_float(b, sine(880, 0.3, 44100, 2.0), 44100);
  const auto mkv = dir_ / "film.mkv";
  ASSERT_TRUE(ffmpeg(
      "-f lavfi -i testsrc=size=32x32:rate=5:duration=2 -i '" + a.string() + "' -i '" + b.string() +
      "' -map 0:v -map 1:a -map 2:a -c:v mpeg4 -c:a:0 ac3 -c:a:1 aac '" + mkv.string() + "'"));
  auto tone_of = [&](int stream) {
    const std::vector<float> y = io::load_mono(mkv.string(), 16000, stream);
    const size_t b0 = 4000, e0 = y.size() - 4000;
    return fit_sine(y, 16000, 440, b0, e0).amplitude > fit_sine(y, 16000, 880, b0, e0).amplitude
               ? 440
               : 880;
  };
  EXPECT_EQ(tone_of(-1), 440);
  EXPECT_EQ(tone_of(1), 440);
  EXPECT_EQ(tone_of(2), 880);
  io::MonoReader r2(mkv.string(), 16000, 2);
  EXPECT_EQ(r2.info().sample_rate, 44100);
  try {
    io::MonoReader r(mkv.string(), 16000, 0);
    FAIL() << "stream 0 is video";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(mkv.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not audio"), std::string::npos) << e.what();
  }
  try {
    io::MonoReader r(mkv.string(), 16000, 7);
    FAIL() << "there is no stream 7";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(mkv.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no stream 7"), std::string::npos) << e.what();
  }
}

// --- Bad input: every error names the file and the reason -----------------------------------

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
