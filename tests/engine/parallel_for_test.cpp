// parallel_for: every index exactly once whatever the thread count, and a failure surfaces as the first exception.
#include "parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace lmscope {
namespace {

TEST(ParallelFor, CallsEveryIndexExactlyOnce) {
  for (const unsigned threads : {0u, 1u, 3u, 64u}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{1000}}) {
      std::vector<std::atomic<int>> calls(n);
      parallel_for(n, [&](std::size_t i) { calls[i].fetch_add(1); }, threads);
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(calls[i].load(), 1) << "index " << i << " of " << n << ", " << threads << " threads";
    }
  }
}

TEST(ParallelFor, RethrowsAFailureAfterEveryThreadStops) {
  std::atomic<int> running{0}, after{0};
  try {
    parallel_for(200, [&](std::size_t i) {
      running.fetch_add(1);
      if (i == 17) {
        running.fetch_sub(1);
        throw std::runtime_error("document 17 is bad");
      }
      running.fetch_sub(1);
    }, 4);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "document 17 is bad");
    after = running.load();
  }
  EXPECT_EQ(after.load(), 0) << "a call was still running when the exception reached the caller";
}

}  // namespace
}  // namespace lmscope
