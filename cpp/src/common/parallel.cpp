#include "hptrain/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace hptrain {

int resolve_threads(int n_threads) {
  if (n_threads > 0) return n_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(int64_t n, int n_threads, const std::function<void(int64_t)>& fn) {
  const int workers = static_cast<int>(std::min<int64_t>(std::max(1, n_threads), n));
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (int64_t i = next++; i < n && !failed; i = next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

SerialWorker::SerialWorker(size_t max_queued)
    : max_queued_(max_queued), thread_([this] { loop(); }) {}

SerialWorker::~SerialWorker() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void SerialWorker::push(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return max_queued_ == 0 || jobs_.size() < max_queued_; });
  jobs_.push_back(std::move(job));
  changed_.notify_all();
}

void SerialWorker::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return done_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      changed_.notify_all();
    }
    job();  // a packaged task: its exception goes to the future
  }
}

}  // namespace hptrain
