// parallel_for: every index exactly once on any thread count, and the first exception rethrown
// after the workers stop. SerialWorker: jobs in order on one thread, results and exceptions
// through the futures, at most max_queued jobs waiting, the queue run before it stops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
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

TEST(SerialWorker, JobsInOrderOnOneThreadWithResultsAndErrors) {
  std::vector<int> order;  // written by the worker's thread alone
  std::thread::id first;
  std::vector<std::future<int>> results;
  {
    SerialWorker w;
    for (int i = 0; i < 50; ++i) {
      results.push_back(w.run([&, i] {
        if (i == 0) first = std::this_thread::get_id();
        EXPECT_EQ(std::this_thread::get_id(), first) << i;
        order.push_back(i);
        if (i == 7) throw std::runtime_error("job 7");
        return i * i;
      }));
    }
  }  // the destructor runs what is queued
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(order[static_cast<size_t>(i)], i);
    if (i == 7) {
      EXPECT_THROW(results[7].get(), std::runtime_error);
    } else {
      EXPECT_EQ(results[static_cast<size_t>(i)].get(), i * i);
    }
  }
  EXPECT_NE(first, std::this_thread::get_id());
}

// With max_queued 2, a third waiting job makes run() wait until the worker takes one.
TEST(SerialWorker, RunWaitsWhileMaxQueuedJobsWait) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  SerialWorker w(2);
  std::atomic<int> started{0};
  w.run([&] {
    ++started;
    gate.wait();
  });  // the running job holds the thread
  while (started.load() == 0) std::this_thread::yield();
  w.run([] {});
  w.run([] {});  // two waiting: the bound
  std::atomic<bool> third_queued{false};
  std::thread t([&] {
    w.run([] {});
    third_queued = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(third_queued.load());
  release.set_value();
  t.join();
  EXPECT_TRUE(third_queued.load());
}

}  // namespace
}  // namespace hptrain
