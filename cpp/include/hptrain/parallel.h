// Work sharing on CPU threads: every index of a range once, taken in order by a few
// std::threads (the caller's among them); the first exception is rethrown after all stop.
#pragma once

#include <cstdint>
#include <functional>

namespace hptrain {

// Worker threads for a setting: n_threads when > 0, else every core.
int resolve_threads(int n_threads);

// Calls fn(i) for i in [0, n) on min(n, max(1, n_threads)) threads. After an exception no new
// index is started; the first one is rethrown here once every worker has stopped.
void parallel_for(int64_t n, int n_threads, const std::function<void(int64_t)>& fn);

}  // namespace hptrain
