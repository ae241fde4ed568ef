// The kernels' loop forms (hptrain/cuda/loops.h) run on the host: which indices a thread of a
// grid-stride loop visits, each once, in the kernels' shapes (tails, a first index past the end,
// in place), the DCT's groups of outputs per warp and the float order key of their atomic
// maxima. Needs no GPU.
#include "hptrain/cuda/loops.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace hptrain::cuda {
namespace {

// Every thread of a block of `threads` over n values, 4 loads in flight: each index is loaded
// once and stored once with its own value, by the thread a plain grid-stride loop would use.
void check_block(int64_t n, int64_t threads) {
  std::vector<int> loads(static_cast<size_t>(n), 0), stores(static_cast<size_t>(n), 0);
  std::vector<int64_t> owner(static_cast<size_t>(n), -1), value(static_cast<size_t>(n), -1);
  for (int64_t t = 0; t < threads; ++t) {
    grouped_loads<4>(
        t, n, threads,
        [&](int64_t i) {
          ++loads[static_cast<size_t>(i)];
          return 1000 * i;
        },
        [&](int64_t i, int64_t v) {
          ++stores[static_cast<size_t>(i)];
          owner[static_cast<size_t>(i)] = t;
          value[static_cast<size_t>(i)] = v;
        });
  }
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    ASSERT_EQ(loads[k], 1) << "n " << n << " threads " << threads << " i " << i;
    ASSERT_EQ(stores[k], 1) << "n " << n << " threads " << threads << " i " << i;
    EXPECT_EQ(owner[k], i % threads);
    EXPECT_EQ(value[k], 1000 * i);
  }
}

TEST(GroupedLoads, EachIndexOnceByItsGridStrideThread) {
  for (const int64_t n : {0, 1, 3, 255, 256, 257, 1023, 1024, 1025, 8224, 19264}) {
    for (const int64_t threads : {1, 7, 32, 256}) check_block(n, threads);
  }
}

// All of a group's loads come before its stores, so an in-place pass reads the old values.
TEST(GroupedLoads, LoadsOfAGroupPrecedeItsStoresInPlace) {
  std::vector<float> y = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<int64_t> order;
  grouped_loads<4>(
      0, static_cast<int64_t>(y.size()), 2,
      [&](int64_t i) {
        order.push_back(i);
        return y[static_cast<size_t>(i)];
      },
      [&](int64_t i, float v) {
        order.push_back(-1 - i);
        y[static_cast<size_t>(i)] = 10 * v;
      });
  EXPECT_EQ(order, (std::vector<int64_t>{0, 2, 4, 6, -1, -3, -5, -7, 8, -9}));
  EXPECT_EQ(y, (std::vector<float>{10, 2, 30, 4, 50, 6, 70, 8, 90}));
}

// register_group deals every output to exactly one warp's group, in groups no larger than
// `regs`, each output below n: the DCT of mfcc_from_mel for any n_mfcc and block size.
TEST(RegisterGroup, EveryOutputOnceInGroupsOfAtMostRegs) {
  for (const int warps : {1, 3, 8, 32}) {
    for (const int regs : {1, 3, 4}) {
      for (int n = 0; n <= 70; ++n) {
        std::vector<int> taken(static_cast<size_t>(n), 0);
        for (int g = 0; g < warps; ++g) {
          for (int c0 = g;; c0 += warps * regs) {
            const int r = register_group(n, c0, warps, regs);
            if (r == 0) break;
            ASSERT_LE(r, regs);
            for (int u = 0; u < r; ++u) {
              const int c = c0 + u * warps;
              ASSERT_LT(c, n) << "warps " << warps << " regs " << regs << " group at " << c0;
              ++taken[static_cast<size_t>(c)];
            }
          }
        }
        for (int c = 0; c < n; ++c) {
          EXPECT_EQ(taken[static_cast<size_t>(c)], 1)
              << "output " << c << " of " << n << ", " << warps << " warps, " << regs << " regs";
        }
      }
    }
  }
}

// Keys sort as their floats do, across signs, zeros, subnormals and infinities, and give each
// float back; key 0 (the maximum of none) is below them all.
TEST(OrderKey, KeysSortAsTheirFloatsAndGiveThemBack) {
  const float inf = std::numeric_limits<float>::infinity();
  const float denorm = std::numeric_limits<float>::denorm_min();
  const std::vector<float> ascending = {-inf,    -FLT_MAX, -1e20f, -80.5f,  -1.0f,   -FLT_MIN,
                                        -denorm, -0.0f,    0.0f,   denorm,  FLT_MIN, 1e-10f,
                                        1.0f,    42.25f,   1e20f,  FLT_MAX, inf};
  uint32_t previous = 0;
  for (const float f : ascending) {
    const uint32_t k = order_key(f);
    EXPECT_GT(k, previous) << f;
    previous = k;
    const float back = from_order_key(k, 7.0f);
    EXPECT_EQ(std::memcmp(&back, &f, sizeof f), 0) << f;  // the same bits: -0 stays -0
  }
  EXPECT_EQ(from_order_key(0, -FLT_MAX), -FLT_MAX);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1e6f, 1e6f);
  for (int i = 0; i < 10000; ++i) {
    const float a = u(rng), b = u(rng);
    EXPECT_EQ(a < b, order_key(a) < order_key(b)) << a << " " << b;
  }
}

// power_to_db's keys: NaN and values below zero key as +0 (db takes max(amin, x) of them), which
// is still above key 0 (none); positive values key as order_key.
TEST(PowerKey, NanAndNegativesAsZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const float f : {nan, -nan, -1.0f, -0.0f, -std::numeric_limits<float>::infinity()}) {
    EXPECT_EQ(power_key(f), order_key(0.0f)) << f;
  }
  EXPECT_GT(power_key(nan), 0u);
  for (const float f : {1e-40f, 1e-10f, 1.0f, FLT_MAX}) {
    EXPECT_EQ(power_key(f), order_key(f)) << f;
    EXPECT_GT(power_key(f), power_key(0.0f)) << f;
  }
}

}  // namespace
}  // namespace hptrain::cuda
