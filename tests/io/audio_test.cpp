// Decoding (libsndfile and FFmpeg), downmix, soxr resampling and WAV writing of hptrain::io,
// checked against what the test wrote and against fitted sines.
#include "hptrain/io/audio.h"

#include "hptrain/error.h"
#include "hptrain/fs.h"
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

// Mono is the samples themselves, bit for bit, except -0, which the mean's sum (0.0f + x) makes
// +0 (as it always has: the mono copy keeps it so).
TEST(IoDownmix, MonoIsTheSamplesWithPositiveZero) {
  TempDir dir;
  std::vector<float> x = noise(70000, 0.2, 9);  // more than one decoder block
  for (size_t i = 0; i < x.size(); i += 1001) x[i] = -0.0f;
  write_wav_float(dir / "mono.wav", x, 16000);
  const std::vector<float> y = io::load_mono((dir / "mono.wav").string(), 16000);
  ASSERT_EQ(y.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(y[i], x[i]) << i;
    ASSERT_FALSE(std::signbit(y[i]) && y[i] == 0.0f) << i;
  }
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

// The same samples give the same bytes: libsndfile's PEAK chunk of a float WAV carries the time
// of writing, so two writes a second apart differed (make-conversations' same-seed test).
TEST(IoWriteWav, SameSamplesSameBytesWithoutPeakChunk) {
  TempDir dir;
  const std::vector<float> x = noise(4000, 0.3, 3);
  io::write_wav(dir / "a.wav", x.data(), x.size(), 16000);
  const std::string bytes = fs::read_text(dir / "a.wav");
  EXPECT_EQ(bytes.find("PEAK"), std::string::npos) << "a PEAK chunk (with a timestamp) is written";
  EXPECT_NE(bytes.find("data"), std::string::npos);
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

}  // namespace
}  // namespace hptrain::test
