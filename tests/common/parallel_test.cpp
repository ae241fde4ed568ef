// parallel_for: every index exactly once on any thread count, and the first exception rethrown
// after the workers stop.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hptrain/parallel.h"

namespace hptrain {
namespace {

TEST(Parallel, EveryIndexOnceOnAnyThreadCount) {
  for (int threads : {0, 1, 3, 64}) {
    std::vector<std::atomic<int>> seen(1000);
    parallel_for(1000, resolve_threads(threads), [&](int64_t i) { ++seen[i]; });
    for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << i << " " << threads;
  }
  parallel_for(0, 4, [](int64_t) { FAIL() << "no index in an empty range"; });
}

TEST(Parallel, ExceptionIsRethrownAfterTheWorkersStop) {
  std::atomic<int> done{0};
  EXPECT_THROW(parallel_for(100, 3,
                            [&](int64_t i) {
                              if (i == 7) throw std::runtime_error("item 7");
                              ++done;
                            }),
               std::runtime_error);
  EXPECT_LT(done.load(), 100);
  // 0 means every core the system reports (one when it reports none)
  const unsigned cores = std::thread::hardware_concurrency();
  EXPECT_EQ(resolve_threads(0), cores > 0 ? static_cast<int>(cores) : 1);
  EXPECT_EQ(resolve_threads(5), 5);
}

}  // namespace
}  // namespace hptrain
