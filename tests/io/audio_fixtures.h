// Test fixtures for the io and preprocess tests: generated signals, files written with
// libsndfile or the ffmpeg command, and least-squares sine fits to check what was decoded.
#pragma once

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace hptrain::test {

constexpr double kPi = 3.14159265358979323846;

// amp * sin(2 pi f t + phase), `seconds` long at `sr`.
inline std::vector<float> sine(double f, double amp, int sr, double seconds, double phase = 0) {
  std::vector<float> x(static_cast<size_t>(std::llround(seconds * sr)));
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>(amp * std::sin(2 * kPi * f * static_cast<double>(i) / sr + phase));
  }
  return x;
}

// Gaussian noise of standard deviation `sd`, seeded.
inline std::vector<float> noise(size_t n, double sd, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, static_cast<float>(sd));
  std::vector<float> x(n);
  for (auto& v : x) v = d(gen);
  return x;
}

// Interleaves equal-length channels.
inline std::vector<float> interleave(const std::vector<std::vector<float>>& ch) {
  std::vector<float> out(ch.size() * ch[0].size());
  for (size_t i = 0; i < ch[0].size(); ++i) {
    for (size_t c = 0; c < ch.size(); ++c) out[i * ch.size() + c] = ch[c][i];
  }
  return out;
}

// Writes interleaved float samples with libsndfile in `format` (SF_FORMAT_WAV | SF_FORMAT_FLOAT,
// SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_OGG | SF_FORMAT_VORBIS, SF_FORMAT_MPEG |
// SF_FORMAT_MPEG_LAYER_III, ...).
inline void write_audio(const std::filesystem::path& path, const std::vector<float>& interleaved,
                        int channels, int sr, int format) {
  SF_INFO info{};
  info.samplerate = sr;
  info.channels = channels;
  info.format = format;
  SNDFILE* sf = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(sf, nullptr) << path << ": " << sf_strerror(nullptr);
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size()) / channels;
  EXPECT_EQ(sf_writef_float(sf, interleaved.data(), frames), frames);
  sf_close(sf);
}

inline void write_wav_float(const std::filesystem::path& path, const std::vector<float>& mono,
                            int sr) {
  write_audio(path, mono, 1, sr, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
}

// All frames of a file as libsndfile reads them (interleaved), with its rate and channels.
inline std::vector<float> read_audio(const std::filesystem::path& path, SF_INFO* info) {
  *info = SF_INFO{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, info);
  if (sf == nullptr) return {};
  std::vector<float> x(static_cast<size_t>(info->frames * info->channels));
  sf_readf_float(sf, x.data(), info->frames);
  sf_close(sf);
  return x;
}

// True when hptrain decodes through FFmpeg and the ffmpeg command is there to make videos.
inline bool can_test_video() {
#ifdef HP_WITH_FFMPEG
  return std::system("command -v ffmpeg >/dev/null 2>&1") == 0;
#else
  return false;
#endif
}

// Runs the ffmpeg command with `args` (quiet, overwriting); true on success.
inline bool ffmpeg(const std::string& args) {
  return std::system(("ffmpeg -nostdin -hide_banner -loglevel error -y " + args).c_str()) == 0;
}

// Least-squares fit of a*sin + b*cos at frequency f over x[begin, end): amplitude, phase and
// the RMS of what the sine does not explain.
struct SineFit {
  double amplitude = 0;
  double phase = 0;
  double residual_rms = 0;
};

inline SineFit fit_sine(const std::vector<float>& x, int sr, double f, size_t begin, size_t end) {
  double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (size_t i = begin; i < end; ++i) {
    const double w = 2 * kPi * f * static_cast<double>(i) / sr;
    const double s = std::sin(w), c = std::cos(w);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    xs += x[i] * s;
    xc += x[i] * c;
  }
  const double det = ss * cc - sc * sc;
  const double a = (xs * cc - xc * sc) / det;
  const double b = (xc * ss - xs * sc) / det;
  double r = 0;
  for (size_t i = begin; i < end; ++i) {
    const double w = 2 * kPi * f * static_cast<double>(i) / sr;
    const double e = x[i] - (a * std::sin(w) + b * std::cos(w));
    r += e * e;
  }
  return {std::hypot(a, b), std::atan2(b, a), std::sqrt(r / static_cast<double>(end - begin))};
}

// Frequency of the sine in x[begin, end) near `f`: the phase drift between the fits of the
// two halves, over the time between their centres.
inline double measure_frequency(const std::vector<float>& x, int sr, double f, size_t begin,
                                size_t end) {
  const size_t mid = (begin + end) / 2;
  const SineFit a = fit_sine(x, sr, f, begin, mid);
  const SineFit b = fit_sine(x, sr, f, mid, end);
  double d = b.phase - a.phase;
  while (d > kPi) d -= 2 * kPi;
  while (d < -kPi) d += 2 * kPi;
  const double dt = static_cast<double>(mid - begin) / sr;
  return f + d / (2 * kPi * dt);
}

inline double rms(const std::vector<float>& x, size_t begin, size_t end) {
  double s = 0;
  for (size_t i = begin; i < end; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(end - begin));
}

}  // namespace hptrain::test
