// kernel_block (the SVM's kernel rows, the seam of a device twin) against the naive formula in
// double precision, at awkward shapes and column ranges.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hptrain/baselines/kernel.h"
#include "support/support.h"

namespace hptrain::baselines {
namespace {

// float32 dot products of standardised rows: relative error ~ d * 2^-24
constexpr double kAtol = 1e-5;
constexpr double kRtol = 1e-5;

struct Shape {
  int64_t n_a, n_b, d;
};

class KernelBlock : public ::testing::TestWithParam<Shape> {};

TEST_P(KernelBlock, MatchesNaiveFormula) {
  const Shape s = GetParam();
  std::mt19937 rng(static_cast<unsigned>(s.n_a * 131 + s.n_b * 7 + s.d));
  std::normal_distribution<float> g;
  std::vector<float> A(s.n_a * s.d), B(s.n_b * s.d), a_sq(s.n_a), b_sq(s.n_b);
  for (auto& v : A) v = g(rng);
  for (auto& v : B) v = g(rng);
  row_sq_norms(A.data(), s.n_a, s.d, a_sq.data());
  row_sq_norms(B.data(), s.n_b, s.d, b_sq.data());
  // every other row of A, reversed; columns [1, n_b - 1) when there are enough
  std::vector<int64_t> rows;
  for (int64_t r = s.n_a - 1; r >= 0; r -= 2) rows.push_back(r);
  const int64_t c0 = s.n_b > 2 ? 1 : 0, c1 = s.n_b > 2 ? s.n_b - 1 : s.n_b;
  for (KernelType type : {KernelType::linear, KernelType::rbf}) {
    const KernelParams p{type, 0.7 / static_cast<double>(s.d)};
    const int64_t ld = c1 - c0 + 3;  // padded rows: the padding must stay untouched
    std::vector<float> out(rows.size() * ld, -7.0f), ref(rows.size() * ld, -7.0f);
    kernel_block(p, A.data(), a_sq.data(), rows.data(), static_cast<int64_t>(rows.size()), B.data(),
                 b_sq.data(), c0, c1, s.d, out.data(), ld);
    for (size_t r = 0; r < rows.size(); ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        double dot = 0, sq = 0;
        for (int64_t k = 0; k < s.d; ++k) {
          const double x = A[rows[r] * s.d + k], z = B[c * s.d + k];
          dot += x * z;
          sq += (x - z) * (x - z);
        }
        ref[r * ld + c - c0] =
            static_cast<float>(type == KernelType::linear ? dot : std::exp(-p.gamma * sq));
      }
    }
    EXPECT_TRUE(test::all_close(kernel_name(type), out, ref, kAtol, kRtol));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, KernelBlock,
                         ::testing::Values(Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{8, 3, 8},
                                           Shape{17, 33, 9}, Shape{5, 257, 162},
                                           Shape{64, 64, 64}));

TEST(KernelBlock, RbfDiagonalIsExactlyOne) {
  std::mt19937 rng(2);
  std::normal_distribution<float> g;
  const int64_t n = 20, d = 13;
  std::vector<float> A(n * d), sq(n), out(n);
  for (auto& v : A) v = 30 * g(rng);  // large norms: cancellation must still give 0 distance
  row_sq_norms(A.data(), n, d, sq.data());
  for (int64_t i = 0; i < n; ++i) {
    kernel_block({KernelType::rbf, 0.5}, A.data(), sq.data(), &i, 1, A.data(), sq.data(), i, i + 1,
                 d, out.data() + i, 1);
  }
  for (float v : out) EXPECT_EQ(v, 1.0f);
}

}  // namespace
}  // namespace hptrain::baselines
