#include "dvx/base/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace dvx {
namespace {

TEST(ParallelFor, EveryIndexOnceAndErrorsRethrown) {
  for (unsigned threads : {1u, 4u}) {
    std::vector<std::atomic<int>> hits(1000);
    parallel_for(hits.size(), threads, [&](size_t i) { ++hits[i]; });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    EXPECT_THROW(parallel_for(10, threads, [](size_t i) { if (i == 7) throw std::runtime_error("x"); }),
                 std::runtime_error);
  }
}

TEST(ParallelForRanges, ConsecutiveRangesCoverEachIndexOnce) {
  for (unsigned threads : {1u, 3u})
    for (size_t n : {0u, 1u, 31u, 32u, 33u, 100u}) {
      std::mutex m;
      std::vector<std::pair<size_t, size_t>> ranges;
      parallel_for_ranges(n, 32, threads, [&](size_t b, size_t e) {
        std::lock_guard<std::mutex> lock(m);
        ranges.emplace_back(b, e);
      });
      std::sort(ranges.begin(), ranges.end());
      size_t next = 0;
      for (auto [b, e] : ranges) {
        EXPECT_EQ(b, next) << "n=" << n;
        EXPECT_GT(e, b);
        EXPECT_LE(e - b, 32u);
        next = e;
      }
      EXPECT_EQ(next, n);
      EXPECT_EQ(ranges.size(), (n + 31) / 32);
    }
}

}  // namespace
}  // namespace dvx
