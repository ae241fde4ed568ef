// The framing arithmetic that the STFT's framing kernel and its cuFFT load callback run on the
// device, run here on the host (HP_HD): FastDiv against integer division, and FrameSource::at
// (the callback's view: rows 2^l apart) against frames cut by hand from numpy.pad-style padded
// clips. Needs no GPU.
#include "hptrain/cuda/framing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace hptrain::cuda {
namespace {

TEST(FastDiv, EqualsIntegerDivision) {
  constexpr uint32_t kMax = std::numeric_limits<uint32_t>::max();
  const uint32_t divisors[] = {1,           2,           3,           5,       7,     64,
                               130,         301,         480,         1000003, 65537, 0x7fffffffu,
                               0x80000000u, 0x80000001u, 0xfffffffeu, kMax};
  std::mt19937 rng(3);
  for (const uint32_t d : divisors) {
    const FastDiv fd(d);
    std::vector<uint32_t> ns = {0, 1, d - 1, d, kMax, kMax - 1, kMax - d + 1};
    if (d < kMax) ns.push_back(d + 1);
    for (uint32_t k : {2u, 3u, 1000u, 65535u, kMax / d}) {
      const uint64_t m = static_cast<uint64_t>(k) * d;
      if (m <= kMax) {
        ns.push_back(static_cast<uint32_t>(m));
        ns.push_back(static_cast<uint32_t>(m - 1));
      }
    }
    for (int r = 0; r < 20000; ++r) ns.push_back(rng());
    for (const uint32_t n : ns) ASSERT_EQ(fd.div(n), n / d) << n << " / " << d;
  }
}

TEST(FastDiv, EveryNumeratorForSmallDivisors) {
  for (uint32_t d = 1; d <= 400; ++d) {
    const FastDiv fd(d);
    for (uint32_t n = 0; n < 200000; ++n) ASSERT_EQ(fd.div(n), n / d) << n << " / " << d;
  }
}

TEST(Log2Ceil, PowerOfTwoAtOrAbove) {
  EXPECT_EQ(log2_ceil(1), 0);
  EXPECT_EQ(log2_ceil(2), 1);
  EXPECT_EQ(log2_ceil(400), 9);
  EXPECT_EQ(log2_ceil(480), 9);
  EXPECT_EQ(log2_ceil(512), 9);
  EXPECT_EQ(log2_ceil(513), 10);
  EXPECT_EQ(log2_ceil(2048), 11);
}

// numpy.pad(clip, p, mode) for p < len(clip): constant zeros, edge repeats, reflect mirrors
// without repeating the edge sample.
std::vector<double> numpy_pad(const std::vector<float>& clip, int64_t p, PadMode mode) {
  const auto n = static_cast<int64_t>(clip.size());
  std::vector<double> out(static_cast<size_t>(n + 2 * p), 0.0);
  for (int64_t j = 0; j < n; ++j) out[p + j] = clip[j];
  for (int64_t k = 1; k <= p; ++k) {
    if (mode == PadMode::edge) {
      out[p - k] = clip.front();
      out[p + n - 1 + k] = clip.back();
    } else if (mode == PadMode::reflect) {
      out[p - k] = clip[k];
      out[p + n - 1 + k] = clip[n - 1 - k];
    }
  }
  return out;
}

struct FrameCase {
  int n_fft, win, hop;
  bool center;
  PadMode mode;
};

// Every value FrameSource::at gives for the valid frames of every item of a ragged batch equals
// window[i] * padded_clip[t hop + i] computed by hand, bit for bit: in float64 from the float64
// window, in float32 from the window rounded to float32; the row's tail past n_fft (the
// callbacks' stride padding) is 0.
TEST(FrameSource, CallbackOffsetsGiveTheFramesOfEachClip) {
  const FrameCase cases[] = {{512, 400, 160, true, PadMode::constant},
                             {512, 512, 128, true, PadMode::reflect},
                             {480, 300, 128, true, PadMode::edge},
                             {480, 480, 100, false, PadMode::constant},
                             {2048, 2048, 512, true, PadMode::constant}};
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const FrameCase& c : cases) {
    const std::string what = "n_fft " + std::to_string(c.n_fft) + " hop " + std::to_string(c.hop) +
                             " mode " + std::to_string(static_cast<int>(c.mode));
    const int64_t batch = 4, n_samples = 6 * c.n_fft + 37;
    std::vector<float> audio(static_cast<size_t>(batch * n_samples));
    for (float& v : audio) v = u(rng);
    const std::vector<int64_t> lengths = {n_samples, n_samples - 1, 3 * c.n_fft + 5, c.n_fft + 1};
    std::vector<double> window(static_cast<size_t>(c.n_fft), 0.0);
    const int lo = (c.n_fft - c.win) / 2;
    for (int i = lo; i < lo + c.win; ++i) window[i] = 0.5 + 0.25 * std::sin(0.1 * i);
    const std::vector<float> window32(window.begin(), window.end());

    const Framing f{c.n_fft, c.hop, c.center};
    const FrameSource src(Signal{audio.data(), lengths.data(), batch, n_samples}, f, c.mode,
                          window.data(), window32.data(), lo, lo + c.win);
    ASSERT_EQ(src.T, f.frames(n_samples)) << what;
    ASSERT_EQ(src.pad, f.pad()) << what;
    const uint64_t stride = uint64_t{1} << src.log2_stride;
    ASSERT_GE(stride, static_cast<uint64_t>(c.n_fft)) << what;
    ASSERT_LT(stride, 2 * static_cast<uint64_t>(c.n_fft)) << what;

    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<float> clip(audio.begin() + b * n_samples,
                                    audio.begin() + b * n_samples + lengths[b]);
      const std::vector<double> padded = numpy_pad(clip, f.pad(), c.mode);
      const int64_t own = f.frames(lengths[b]);
      ASSERT_GT(own, 0) << what;
      for (int64_t t = 0; t < own; ++t) {
        const uint64_t row = static_cast<uint64_t>(b * src.T + t);
        for (int i = 0; i < c.n_fft; ++i) {
          const double y = padded[t * c.hop + i];
          ASSERT_EQ(src.at<double>(row * stride + i), window[i] * y)
              << what << " item " << b << " frame " << t << " value " << i;
          ASSERT_EQ(src.at<float>(row * stride + i), window32[i] * static_cast<float>(y))
              << what << " item " << b << " frame " << t << " value " << i << " (float32)";
        }
        for (uint64_t i = c.n_fft; i < stride; ++i) {
          ASSERT_EQ(src.at<double>(row * stride + i), 0.0);
          ASSERT_EQ(src.at<float>(row * stride + i), 0.0f);
        }
      }
    }
  }
}

}  // namespace
}  // namespace hptrain::cuda
