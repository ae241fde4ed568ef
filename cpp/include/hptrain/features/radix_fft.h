// The FFT of the GPU's fused STFT + mel kernel, written once for it and for the CPU tests that
// hold it to FFTW: a real FFT of n (a power of two) as a complex FFT of n / 2 in Stockham
// radix-16/8/4/2 passes, each butterfly a function of its index, as GPU threads run them.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "hptrain/hd.h"

namespace hptrain::features::radix_fft {

template <class T>
struct Complex {
  T re, im;
};

template <class T>
HP_HD inline Complex<T> operator+(Complex<T> a, Complex<T> b) {
  return {a.re + b.re, a.im + b.im};
}
template <class T>
HP_HD inline Complex<T> operator-(Complex<T> a, Complex<T> b) {
  return {a.re - b.re, a.im - b.im};
}
template <class T>
HP_HD inline Complex<T> operator*(Complex<T> a, Complex<T> b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}

// The largest real FFT of this code (the fused kernel's tile must also fit its shared memory:
// n_fft up to 2048 in float64, 4096 in float32).
constexpr int kMaxN = 4096;
constexpr int kMaxRadix = 16;

// Whether n is a real FFT size of this code: a power of two in [4, kMaxN].
HP_HD inline bool supported(int n) {
  return n >= 4 && n <= kMaxN && (n & (n - 1)) == 0;
}

// The radix of the next pass of an m-point complex FFT (m a power of two) while `left` points
// of it are still to combine (left = m at first): max_radix (2, 4, 8 or 16) while it divides,
// then what is left once. Passes run at span ns = 1, r0, r0 r1, ... until left is 1.
HP_HD inline int next_radix(int left, int max_radix) {
  return left >= max_radix ? max_radix : left;
}

// exp(-2 pi i j / n) for j in [0, n), interleaved (re, im), float64: the real FFT's table, whose
// even entries are the n / 2-point complex FFT's. Quarter turns exact, each angle on its own.
inline std::vector<double> twiddles(int n) {
  std::vector<double> w(2 * static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    if ((4 * j) % n == 0) {
      constexpr double kRe[4] = {1, 0, -1, 0}, kIm[4] = {0, -1, 0, 1};
      w[2 * j] = kRe[4 * j / n];
      w[2 * j + 1] = kIm[4 * j / n];
    } else {
      const double a = 2.0 * M_PI * static_cast<double>(j) / static_cast<double>(n);
      w[2 * j] = std::cos(a);
      w[2 * j + 1] = -std::sin(a);
    }
  }
  return w;
}

template <class T>
HP_HD inline Complex<T> twiddle(const double* table, int j) {
  return {static_cast<T>(table[2 * j]), static_cast<T>(table[2 * j + 1])};
}

// cos(2 pi e / 16) for e in [0, 8), exact to float64.
HP_HD constexpr double cos16(int e) {
  return e == 0   ? 1.0
         : e == 1 ? 0.92387953251128675613
         : e == 2 ? 0.70710678118654752440
         : e == 3 ? 0.38268343236508977173
         : e == 4 ? 0.0
                  : -cos16(8 - e);
}

// The R-point DFT of v in place (R = 2, 4, 8, 16): radix-2 decimation in time on registers
// (every index a constant once unrolled), its twiddles exp(-2 pi i e / 16) as constants.
template <int R, class T>
HP_HD inline void dft(Complex<T>* v) {
  constexpr int kBits = R == 2 ? 1 : R == 4 ? 2 : R == 8 ? 3 : 4;
  static_assert(R == 1 << kBits, "radix 2, 4, 8 or 16");
  HP_UNROLL
  for (int i = 0; i < R; ++i) {
    int j = 0;
    HP_UNROLL
    for (int b = 0; b < kBits; ++b) j |= ((i >> b) & 1) << (kBits - 1 - b);
    if (i < j) {
      const Complex<T> t = v[i];
      v[i] = v[j];
      v[j] = t;
    }
  }
  HP_UNROLL
  for (int stage = 0; stage < kBits; ++stage) {
    const int half = 1 << stage;
    HP_UNROLL
    for (int h = 0; h < R / 2; ++h) {
      const int q = h & (half - 1);
      const int a = ((h >> stage) << (stage + 1)) + q;
      const int e = q * (8 >> stage);  // exp(-2 pi i q / (2 half)) = exp(-2 pi i e / 16)
      // sin(2 pi e / 16) = cos(2 pi |4 - e| / 16)
      const Complex<T> w{static_cast<T>(cos16(e)), static_cast<T>(-cos16(e <= 4 ? 4 - e : e - 4))};
      const Complex<T> x = v[a], y = v[a + half] * w;
      v[a] = x + y;
      v[a + half] = x - y;
    }
  }
}

// Butterfly j in [0, m / R) of the radix-R pass at span ns (the product of the radices before
// it) of an m-point complex FFT (Stockham, natural order in and out), in two halves so that
// threads sharing one buffer can wait between them: load reads in[j + r m / R], twiddles them
// and transforms them into v; store writes v to out[(j / ns) ns R + j % ns + r ns].
// table: twiddles(2 m).
template <int R, class T>
HP_HD inline void pass_load(const Complex<T>* in, int m, int ns, int j, const double* table,
                            Complex<T>* v) {
  const int k = j & (ns - 1);
  const int step = 2 * (m / (ns * R)) * k;  // exp(-2 pi i k r / (ns R)) = table[step r]
  HP_UNROLL
  for (int r = 0; r < R; ++r) v[r] = in[j + r * (m / R)];
  HP_UNROLL
  for (int r = 1; r < R; ++r) v[r] = v[r] * twiddle<T>(table, step * r);
  dft<R>(v);
}
template <int R, class T>
HP_HD inline void pass_store(const Complex<T>* v, int ns, int j, Complex<T>* out) {
  const int base = (j / ns) * ns * R + (j & (ns - 1));
  HP_UNROLL
  for (int r = 0; r < R; ++r) out[base + r * ns] = v[r];
}

// Bin k in [0, m] of the real FFT (n = 2 m) of x from the m-point complex FFT z of its pairs
// x[2 j] + i x[2 j + 1]: (Z[k] + conj Z[m - k]) / 2 + w^k (Z[k] - conj Z[m - k]) / 2i, Z[m] = Z[0].
// table: twiddles(n).
template <class T>
HP_HD inline Complex<T> real_bin(const Complex<T>* z, int m, int k, const double* table) {
  const Complex<T> a = z[k == m ? 0 : k], c = z[k == 0 ? 0 : m - k];
  const Complex<T> b{c.re, -c.im};
  const Complex<T> sum = a + b, diff = a - b;
  const Complex<T> even{sum.re * T(0.5), sum.im * T(0.5)};
  const Complex<T> odd{diff.im * T(0.5), -diff.re * T(0.5)};
  return even + twiddle<T>(table, k) * odd;
}

// The whole m-point complex FFT of z in place on the host, pass after pass through scratch [m]
// (the GPU kernel's passes in its order; for tests).
template <class T>
void fft(Complex<T>* z, Complex<T>* scratch, int m, const double* table, int max_radix) {
  Complex<T> v[kMaxRadix];
  for (int left = m, ns = 1, R = next_radix(left, max_radix); left > 1;
       left /= R, ns *= R, R = next_radix(left, max_radix)) {
    for (int j = 0; j < m / R; ++j) {
      switch (R) {
        case 16:
          pass_load<16>(z, m, ns, j, table, v);
          pass_store<16>(v, ns, j, scratch);
          break;
        case 8:
          pass_load<8>(z, m, ns, j, table, v);
          pass_store<8>(v, ns, j, scratch);
          break;
        case 4:
          pass_load<4>(z, m, ns, j, table, v);
          pass_store<4>(v, ns, j, scratch);
          break;
        default:
          pass_load<2>(z, m, ns, j, table, v);
          pass_store<2>(v, ns, j, scratch);
          break;
      }
    }
    std::copy(scratch, scratch + m, z);
  }
}

}  // namespace hptrain::features::radix_fft
