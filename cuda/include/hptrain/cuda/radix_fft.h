// The STFT's own FFT (FftFraming::radix), written once for host and device (HP_HD) so that its
// arithmetic is tested on the host: a real n-point FFT as an n/2-point complex FFT of the
// frame's (even, odd) pairs, Stockham passes of radix 8 (the last of radix 2 or 4 where log2 n/2
// is not a multiple of 3), then the split into bins k and n/2 - k as |X|^2.
#pragma once

#include <cmath>

#include "hptrain/cuda/loops.h"
#include "hptrain/hd.h"

namespace hptrain::cuda::radix {

struct alignas(8) Cplx {
  float x, y;  // real, imaginary (the fields of CUDA's float2)
};
HP_HD inline Cplx operator+(Cplx a, Cplx b) {
  return {a.x + b.x, a.y + b.y};
}
HP_HD inline Cplx operator-(Cplx a, Cplx b) {
  return {a.x - b.x, a.y - b.y};
}
HP_HD inline Cplx operator*(Cplx a, Cplx b) {
  return {a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x};
}
HP_HD inline Cplx conj(Cplx a) {
  return {a.x, -a.y};
}
// a times -i
HP_HD inline Cplx neg_i(Cplx a) {
  return {a.y, -a.x};
}

// exp(-2 pi i e / n) for e in [0, n/2): the twiddle table's entry e (n a power of two, so 2e/n
// is exact in float32).
HP_HD inline Cplx twiddle_value(int e, int n) {
#if defined(__CUDA_ARCH__)
  float s, c;
  sincospif(-2.0f * static_cast<float>(e) / static_cast<float>(n), &s, &c);
  return {c, s};
#else
  const double a = -2.0 * 3.14159265358979323846 * e / n;
  return {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
#endif
}
// In-place DFT of R = 2, 4 or 8 values, natural order in and out, kernel exp(-2 pi i k j / R).
template <int R>
HP_HD inline void dft(Cplx (&v)[R]);
template <>
HP_HD inline void dft<2>(Cplx (&v)[2]) {
  const Cplx a = v[0];
  v[0] = a + v[1];
  v[1] = a - v[1];
}
template <>
HP_HD inline void dft<4>(Cplx (&v)[4]) {
  const Cplx t0 = v[0] + v[2], t1 = v[0] - v[2], t2 = v[1] + v[3], t3 = neg_i(v[1] - v[3]);
  v[0] = t0 + t2;
  v[1] = t1 + t3;
  v[2] = t0 - t2;
  v[3] = t1 - t3;
}
template <>
HP_HD inline void dft<8>(Cplx (&v)[8]) {
  Cplx e[4] = {v[0], v[2], v[4], v[6]}, o[4] = {v[1], v[3], v[5], v[7]};
  dft<4>(e);
  dft<4>(o);
  constexpr float h = 0.70710678118654752f;  // sqrt(1/2)
  const Cplx w[4] = {o[0], Cplx{h * (o[1].x + o[1].y), h * (o[1].y - o[1].x)}, neg_i(o[2]),
                     Cplx{h * (o[3].y - o[3].x), -h * (o[3].x + o[3].y)}};
  HP_UNROLL
  for (int k = 0; k < 4; ++k) {
    v[k] = e[k] + w[k];
    v[k + 4] = e[k] - w[k];
  }
}

// The passes of an n-point real FFT (n = 256 ... 2048): kLanes threads a frame, each holding 8
// complex values in registers between a pass's loads and its stores (one radix-8 butterfly, or 2
// or 4 butterflies of the last pass's radix). Pass p reads its m values where the previous pass
// (or, for p = 0, the frame) left them and writes them to where the next reads: a work area of
// kSlots values, value q at slot(q), as is the twiddle table (kTableSlots).
template <int N>
struct Passes {
  static_assert(N >= 256 && N <= 2048 && (N & (N - 1)) == 0, "n_fft: a power of two, 256-2048");
  static constexpr int kM = N / 2;  // complex points
  static constexpr int kLanes = kM / 8;
  static constexpr int kLog = kM == 128 ? 7 : kM == 256 ? 8 : kM == 512 ? 9 : 10;
  static constexpr int kCount = kLog / 3 + (kLog % 3 != 0 ? 1 : 0);
  static constexpr int radix(int p) { return p < kLog / 3 ? 8 : 1 << (kLog % 3); }
  static constexpr int span(int p) { return 1 << (3 * p); }  // radix product of passes before p

  // One slot skipped after every 16 values: pass 0's stores (lane j at 8 j + i) and the
  // twiddles of the later passes then fall on different shared-memory banks; runs of 16
  // consecutive values (every load, the split) stay on 16 banks.
  HP_HD static constexpr int slot(int q) { return q + (q >> 4); }
  static constexpr int kSlots = kM + kM / 16;
  static constexpr int kTableSlots = kSlots;  // exp(-2 pi i e / n), e in [0, n/2): m values too
  HP_HD static void fill_table(int e, Cplx* table) { table[slot(e)] = twiddle_value(e, N); }

  // Pass 0's loads for one lane: frame(q) gives complex input q in [0, m); then the DFTs.
  template <class Frame>
  HP_HD static void load_frame(int lane, const Frame& frame, Cplx (&v)[8]) {
    butterflies<radix(0)>(0, lane, frame, nullptr, v);
  }
  // Pass p's (p >= 1) loads for one lane from the work area z, then twiddles and DFTs.
  HP_HD static void load(int p, int lane, const Cplx* z, const Cplx* table, Cplx (&v)[8]) {
    const auto held = [z](int q) { return z[slot(q)]; };
    switch (radix(p)) {
      case 8:
        butterflies<8>(p, lane, held, table, v);
        break;
      case 4:
        butterflies<4>(p, lane, held, table, v);
        break;
      default:
        butterflies<2>(p, lane, held, table, v);
        break;
    }
  }
  // Pass p's stores for one lane: Stockham's self-sorting order, natural after the last pass.
  HP_HD static void store(int p, int lane, const Cplx (&v)[8], Cplx* z) {
    const int r = radix(p), ns = span(p);
    for (int h = 0; h < 8 / r; ++h) {
      const int j = lane + h * kLanes, k = j & (ns - 1), first = (j - k) * r + k;
      for (int i = 0; i < r; ++i) z[slot(first + i * ns)] = v[h * r + i];
    }
  }

  // Bins k and m - k (k in [0, m/2]) of the real FFT from z, its m-point complex FFT in natural
  // order: X[k] = E + W^k O, X[m - k] = conj(E - W^k O), E and O the transforms of the even and
  // the odd samples.
  HP_HD static void split(int k, const Cplx* z, const Cplx* table, Cplx& xk, Cplx& xmk) {
    const Cplx a = z[slot(k & (kM - 1))], b = conj(z[slot((kM - k) & (kM - 1))]);
    const Cplx e{0.5f * (a.x + b.x), 0.5f * (a.y + b.y)};
    const Cplx o = neg_i(Cplx{0.5f * (a.x - b.x), 0.5f * (a.y - b.y)});
    const Cplx wo = twiddle(table, k) * o;
    xk = e + wo;
    xmk = conj(e - wo);
  }

 private:
  // exp(-2 pi i e / n) for e in [0, n) from the table's half [0, n/2) (the other half is its
  // negative).
  HP_HD static Cplx twiddle(const Cplx* table, int e) {
    const Cplx w = table[slot(e & (kM - 1))];
    return e < kM ? w : Cplx{-w.x, -w.y};
  }
  // Butterfly j of pass p: inputs j + i m/R, twiddled by exp(-2 pi i i k / (R ns)), k = j mod ns
  // (none in pass 0, where k = 0).
  template <int R, class Value>
  HP_HD static void radix_butterfly(int p, int j, const Value& value, const Cplx* table,
                                    Cplx (&v)[R]) {
    const int ns = span(p), k = j & (ns - 1);
    HP_UNROLL
    for (int i = 0; i < R; ++i) v[i] = value(j + i * (kM / R));
    if (p > 0) {
      HP_UNROLL
      for (int i = 1; i < R; ++i) v[i] = v[i] * twiddle(table, i * k * (N / (ns * R)));
    }
    dft<R>(v);
  }
  template <int R, class Value>
  HP_HD static void butterflies(int p, int lane, const Value& value, const Cplx* table,
                                Cplx (&v)[8]) {
    HP_UNROLL
    for (int h = 0; h < 8 / R; ++h) {
      Cplx u[R];
      radix_butterfly<R>(p, lane + h * kLanes, value, table, u);
      HP_UNROLL
      for (int i = 0; i < R; ++i) v[h * R + i] = u[i];
    }
  }
};

}  // namespace hptrain::cuda::radix
