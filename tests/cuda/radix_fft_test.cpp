// The STFT's own FFT (radix::Passes, FftFraming::radix) run here on the host, each pass's loads
// for every lane before its stores as the kernel's barriers order them, against a float64 DFT
// of the same frame. Needs no GPU.
#include "hptrain/cuda/radix_fft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

namespace hptrain::cuda::radix {
namespace {

// Bins 0 ... n/2 of the real frame x (n values) as stft_radix.cu's kernel computes them: pass 0
// reads the frame's (even, odd) pairs, later passes the values the previous one stored.
template <int N>
std::vector<Cplx> transform(const std::vector<float>& x) {
  using P = Passes<N>;
  std::vector<Cplx> table(P::kTableSlots), z(P::kSlots);
  for (int e = 0; e < N / 2; ++e) P::fill_table(e, table.data());
  struct Held {
    Cplx v[8];
  };
  std::vector<Held> regs(P::kLanes);  // each lane's registers
  const auto frame = [&](int q) { return Cplx{x[2 * q], x[2 * q + 1]}; };
  for (int p = 0; p < P::kCount; ++p) {
    for (int lane = 0; lane < P::kLanes; ++lane) {
      if (p == 0) {
        P::load_frame(lane, frame, regs[lane].v);
      } else {
        P::load(p, lane, z.data(), table.data(), regs[lane].v);
      }
    }
    for (int lane = 0; lane < P::kLanes; ++lane) P::store(p, lane, regs[lane].v, z.data());
  }
  std::vector<Cplx> bins(P::kM + 1);
  for (int lane = 0; lane < P::kLanes; ++lane) {
    for (int k = lane; k <= P::kM / 2; k += P::kLanes) {
      P::split(k, z.data(), table.data(), bins[k], bins[P::kM - k]);
    }
  }
  return bins;
}

// sum_j x[j] exp(-2 pi i j k / n) in float64, k = 0 ... n/2.
std::vector<std::complex<double>> dft(const std::vector<float>& x) {
  const int n = static_cast<int>(x.size());
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    std::complex<double> s = 0;
    for (int j = 0; j < n; ++j) {
      const long long e = static_cast<long long>(j) * k % n;  // exact angle
      s += static_cast<double>(x[j]) * std::polar(1.0, -2.0 * M_PI * static_cast<double>(e) / n);
    }
    out[k] = s;
  }
  return out;
}

// Every bin within tol of the float64 DFT, relative to the largest bin (a float32 FFT's round-off
// scales with the frame's energy, not with each bin).
template <int N>
void expect_dft(const std::vector<float>& x, double tol, const std::string& what) {
  const std::vector<Cplx> got = transform<N>(x);
  const std::vector<std::complex<double>> ref = dft(x);
  double peak = 0;
  for (const auto& r : ref) peak = std::max(peak, std::abs(r));
  for (size_t k = 0; k < ref.size(); ++k) {
    const double err = std::abs(std::complex<double>(got[k].x, got[k].y) - ref[k]);
    ASSERT_LE(err, tol * peak) << what << " n " << N << " bin " << k << " got (" << got[k].x << ", "
                               << got[k].y << ") want " << ref[k];
  }
}

template <int N>
void check_size() {
  using P = Passes<N>;
  // the passes' radices multiply to m, and every lane holds 8 values a pass
  int product = 1;
  for (int p = 0; p < P::kCount; ++p) {
    EXPECT_EQ(P::span(p), product) << "n " << N << " pass " << p;
    product *= P::radix(p);
  }
  EXPECT_EQ(product, P::kM) << "n " << N;
  EXPECT_EQ(P::kLanes * 8, P::kM) << "n " << N;

  std::mt19937 rng(N);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<float> x(N);
    for (float& v : x) v = g(rng);
    // float32 radix-8 passes: a few 1e-7 of the largest bin; 2e-6 leaves room, not slack for a
    // wrong twiddle (which costs ~1e-1)
    expect_dft<N>(x, 2e-6, "gaussian " + std::to_string(trial));
  }
  // an impulse: every bin exactly 1; a cosine on bin 5: n/2 there, ~0 elsewhere
  std::vector<float> impulse(N, 0.0f), cosine(N);
  impulse[0] = 1.0f;
  const std::vector<Cplx> ones = transform<N>(impulse);
  for (size_t k = 0; k < ones.size(); ++k) {
    EXPECT_EQ(ones[k].x, 1.0f) << "impulse n " << N << " bin " << k;
    EXPECT_EQ(ones[k].y, 0.0f) << "impulse n " << N << " bin " << k;
  }
  for (int j = 0; j < N; ++j) cosine[j] = static_cast<float>(std::cos(2.0 * M_PI * 5.0 * j / N));
  expect_dft<N>(cosine, 2e-6, "cosine");
  EXPECT_NEAR(transform<N>(cosine)[5].x, N / 2.0, 1e-4 * N) << "n " << N;
}

TEST(RadixFft, EverySizeMatchesAFloat64Dft) {
  check_size<256>();
  check_size<512>();
  check_size<1024>();
  check_size<2048>();
}

// Parseval for a real frame: sum |x|^2 = (|X_0|^2 + |X_{n/2}|^2 + 2 sum_{0<k<n/2} |X_k|^2) / n.
TEST(RadixFft, Parseval) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(512);
  double energy = 0;
  for (float& v : x) {
    v = u(rng);
    energy += static_cast<double>(v) * v;
  }
  const std::vector<Cplx> X = transform<512>(x);
  double sum = 0;
  for (size_t k = 0; k < X.size(); ++k) {
    const double p = static_cast<double>(X[k].x) * X[k].x + static_cast<double>(X[k].y) * X[k].y;
    sum += (k == 0 || k == X.size() - 1) ? p : 2 * p;
  }
  EXPECT_NEAR(sum / 512, energy, 1e-5 * energy);
}

}  // namespace
}  // namespace hptrain::cuda::radix
