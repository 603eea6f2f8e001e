// The CPU backend's thread count under load: the processors the load average leaves idle, at least one, and
// OMP_NUM_THREADS when the user sets it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "backend/cpu_threads.h"

namespace lmscope {
namespace {

TEST(CpuThreads, TakeTheProcessorsTheLoadLeavesIdle) {
  EXPECT_EQ(threads_for_load(2, 0.0), 2);
  EXPECT_EQ(threads_for_load(2, 0.4), 2);   // a passing blip rounds away
  EXPECT_EQ(threads_for_load(2, 0.6), 1);
  EXPECT_EQ(threads_for_load(2, 4.5), 1);   // never fewer than one
  EXPECT_EQ(threads_for_load(16, 3.2), 13);
  EXPECT_EQ(threads_for_load(1, 0.0), 1);
  EXPECT_EQ(threads_for_load(8, -1.0), 8);  // no load known: every processor, as OpenMP's default
  EXPECT_EQ(threads_for_load(8, std::nan("")), 8);
}

TEST(CpuThreads, TheUsersThreadCountWins) {
  const char* set = std::getenv("OMP_NUM_THREADS");
  if (set == nullptr) GTEST_SKIP() << "OMP_NUM_THREADS is not set (tools/run-tests.sh sets it)";
  EXPECT_EQ(use_idle_processors(), std::stoi(set));
}

}  // namespace
}  // namespace lmscope
