// Independent per-item work spread over the machine's processors: a task's preparation (tokenising its documents:
// WikiText-2's 62 pages took 2 s on one core of a 2-core VM, a large share of a GPU run's wall time) and the scan of
// a checkpoint's weights at load.
#pragma once

#include <cstddef>
#include <functional>

namespace lmscope {

// Calls f(i) for every i in [0, n), on up to `threads` threads (0: one per processor, at most 16), the calling
// thread included. f must be safe to call concurrently for different i. The first exception thrown is rethrown
// here once every thread has stopped; the indices not yet started are then skipped.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& f, unsigned threads = 0);

}  // namespace lmscope
