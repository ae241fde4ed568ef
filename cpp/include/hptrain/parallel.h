// Work sharing on CPU threads: every index of a range once, taken in order by a few
// std::threads (the caller's among them), the first exception rethrown after all stop; and one
// thread running jobs in the order they are handed over (SerialWorker).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace hptrain {

// Worker threads for a setting: n_threads when > 0, else every core.
int resolve_threads(int n_threads);

// Calls fn(i) for i in [0, n) on min(n, max(1, n_threads)) threads. After an exception no new
// index is started; the first one is rethrown here once every worker has stopped.
void parallel_for(int64_t n, int n_threads, const std::function<void(int64_t)>& fn);

// One thread that runs the jobs handed to it, one at a time, in order; each job's result or
// exception comes back through its future. run() waits while `max_queued` jobs are waiting
// (0: no bound), which bounds the memory the jobs hold. The thread lives as long as the worker
// (its thread-local state, such as the feature workspace, is made once); the destructor runs
// what is queued, then stops.
class SerialWorker {
 public:
  explicit SerialWorker(size_t max_queued = 0);
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  template <class F>
  std::future<std::invoke_result_t<F&>> run(F job) {
    auto task = std::make_shared<std::packaged_task<std::invoke_result_t<F&>()>>(std::move(job));
    auto result = task->get_future();
    push([task] { (*task)(); });
    return result;
  }

 private:
  void push(std::function<void()> job);
  void loop();
  size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace hptrain
