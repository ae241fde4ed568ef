// The GPU fused kernel's FFT (radix_fft.h), run on the host pass by pass as the kernel's threads
// run it, against FFTW's real FFT in float64 on seeded signals of every supported size.
#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "hptrain/features/radix_fft.h"

namespace hptrain::features::radix_fft {
namespace {

// The real FFT of x through radix_fft (as the kernel: pairs, complex FFT, real split).
template <class T>
std::vector<std::complex<double>> ours(const std::vector<double>& x, int max_radix = kMaxRadix) {
  const int n = static_cast<int>(x.size()), m = n / 2;
  const std::vector<double> table = twiddles(n);
  std::vector<Complex<T>> z(m), scratch(m);
  for (int j = 0; j < m; ++j) z[j] = {static_cast<T>(x[2 * j]), static_cast<T>(x[2 * j + 1])};
  fft(z.data(), scratch.data(), m, table.data(), max_radix);
  std::vector<std::complex<double>> out(m + 1);
  for (int k = 0; k <= m; ++k) {
    const Complex<T> v = real_bin(z.data(), m, k, table.data());
    out[k] = {static_cast<double>(v.re), static_cast<double>(v.im)};
  }
  return out;
}

std::vector<std::complex<double>> fftw(std::vector<double> x) {
  const int n = static_cast<int>(x.size());
  std::vector<std::complex<double>> out(n / 2 + 1);
  fftw_plan p =
      fftw_plan_dft_r2c_1d(n, x.data(), reinterpret_cast<fftw_complex*>(out.data()), FFTW_ESTIMATE);
  fftw_execute(p);
  fftw_destroy_plan(p);
  return out;
}

// Largest |ours - fftw| over the bins, relative to the largest |X| (an FFT's error scales with
// the signal's norm, not with each bin).
double relative_error(const std::vector<std::complex<double>>& a,
                      const std::vector<std::complex<double>>& b) {
  double err = 0, peak = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    err = std::max(err, std::abs(a[k] - b[k]));
    peak = std::max(peak, std::abs(b[k]));
  }
  return err / peak;
}

std::vector<double> signal(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = u(rng);
  return x;
}

TEST(RadixFft, Passes) {
  std::vector<int> radices;
  for (int left = 2048; left > 1; left /= next_radix(left, 16))
    radices.push_back(next_radix(left, 16));
  EXPECT_EQ(radices, (std::vector<int>{16, 16, 8}));
  EXPECT_EQ(next_radix(2, 8), 2);
  EXPECT_EQ(next_radix(256, 8), 8);
  EXPECT_EQ(cos16(7), -cos16(1));
  EXPECT_TRUE(supported(512));
  EXPECT_FALSE(supported(480));
  EXPECT_FALSE(supported(2 * kMaxN));
}

TEST(RadixFft, TwiddlesAreUnitRootsWithExactQuarterTurns) {
  const std::vector<double> w = twiddles(16);
  EXPECT_EQ(w[0], 1.0);
  EXPECT_EQ(w[2 * 4], 0.0);
  EXPECT_EQ(w[2 * 4 + 1], -1.0);
  EXPECT_EQ(w[2 * 8], -1.0);
  EXPECT_EQ(w[2 * 12 + 1], 1.0);
  for (int j = 0; j < 16; ++j) EXPECT_NEAR(std::hypot(w[2 * j], w[2 * j + 1]), 1.0, 1e-15);
}

// Every supported size and largest radix, float64 (the kernel's default, as librosa's numpy
// FFT) and float32. float64: round-off of log2(n) passes, ~1e-16 each; float32: 6e-8 each.
TEST(RadixFft, MatchesFftwAtEverySize) {
  for (int n = 4; n <= kMaxN; n *= 2) {
    const std::vector<double> x = signal(n, static_cast<uint64_t>(n));
    const std::vector<std::complex<double>> ref = fftw(x);
    for (const int radix : {16, 8, 4, 2}) {
      EXPECT_LT(relative_error(ours<double>(x, radix), ref), 1e-14) << n << " radix " << radix;
      EXPECT_LT(relative_error(ours<float>(x, radix), ref), 2e-6) << n << " radix " << radix;
    }
  }
}

// An impulse at i has X[k] = exp(-2 pi i k i / n): every bin's phase exercises the twiddles.
TEST(RadixFft, ImpulseGivesItsPhaseRamp) {
  const int n = 512;
  for (const int at : {0, 1, 7, 255, 511}) {
    std::vector<double> x(n, 0.0);
    x[at] = 1.0;
    const std::vector<std::complex<double>> X = ours<double>(x);
    for (int k = 0; k <= n / 2; ++k) {
      const std::complex<double> want = std::polar(1.0, -2.0 * M_PI * ((k * at) % n) / n);
      ASSERT_NEAR(std::abs(X[k] - want), 0.0, 1e-13) << "impulse at " << at << ", bin " << k;
    }
  }
}

// Parseval for a real signal: sum x^2 = (|X0|^2 + |Xm|^2 + 2 sum_{0<k<m} |Xk|^2) / n.
TEST(RadixFft, Parseval) {
  const int n = 2048;
  const std::vector<double> x = signal(n, 99);
  const std::vector<std::complex<double>> X = ours<double>(x);
  double time = 0, freq = std::norm(X[0]) + std::norm(X[n / 2]);
  for (double v : x) time += v * v;
  for (int k = 1; k < n / 2; ++k) freq += 2 * std::norm(X[k]);
  EXPECT_NEAR(freq / n, time, 1e-10 * time);
}

}  // namespace
}  // namespace hptrain::features::radix_fft
