// A bounded pool of worker threads for coarse-grained parallel loops.
// Thread-safety: parallel_for may be called from one thread at a time per pool.
#pragma once

#include <cstddef>
#include <functional>

namespace dvx {

// Runs fn(i) for i in [0, n) on up to `threads` threads (the calling thread included) and
// returns when all are done. Indices are handed out in increasing order in small chunks, so
// work is balanced; the caller makes results deterministic by writing to slot i.
// An exception thrown by fn is rethrown in the caller after all threads stopped.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn);

// parallel_for over consecutive ranges of at most `per` indices: fn(begin, end) for each range
// of [0, n) (for work that batches items, e.g. hashing up to `per` buffers side by side).
void parallel_for_ranges(size_t n, size_t per, unsigned threads,
                         const std::function<void(size_t begin, size_t end)>& fn);

// Number of hardware threads (at least 1).
unsigned hardware_threads();

}  // namespace dvx
