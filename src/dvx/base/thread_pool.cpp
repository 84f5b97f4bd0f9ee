#include "dvx/base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dvx {

unsigned hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (threads <= 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  if (threads > n) threads = static_cast<unsigned>(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const size_t chunk = n / (threads * 64) + 1;
  auto worker = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      size_t begin = next.fetch_add(chunk);
      if (begin >= n) break;
      size_t end = begin + chunk < n ? begin + chunk : n;
      try {
        for (size_t i = begin; i < end; ++i) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

void parallel_for_ranges(size_t n, size_t per, unsigned threads,
                         const std::function<void(size_t, size_t)>& fn) {
  if (per == 0) per = 1;
  parallel_for((n + per - 1) / per, threads, [&](size_t r) { fn(r * per, std::min(n, r * per + per)); });
}

}  // namespace dvx
