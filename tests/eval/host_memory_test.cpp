// The host memory high-water mark the charlevel task reports per unit.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "eval/host_memory.h"

namespace lmscope::eval {
namespace {

TEST(HostMemory, PeakFollowsWhatTheProcessTouchedSinceTheReset) {
  const bool resets = reset_host_peak();
  const std::int64_t before = host_peak_bytes();
  ASSERT_GT(before, 0);
  constexpr std::size_t kBytes = 128u << 20;
  {
    auto block = std::make_unique<char[]>(kBytes);
    std::memset(block.get(), 1, kBytes);  // resident only once written
    EXPECT_GE(host_peak_bytes(), before + static_cast<std::int64_t>(kBytes) * 9 / 10);
  }
  const std::int64_t with_block = host_peak_bytes();
  if (!resets) GTEST_SKIP() << "skipped: this kernel cannot reset the peak (/proc/self/clear_refs); the peak is the process's";
#ifdef LMSCOPE_SANITIZED  // AddressSanitizer keeps freed blocks in its quarantine instead of returning them
  GTEST_SKIP() << "skipped under AddressSanitizer: freed blocks stay in its quarantine, so the reset peak keeps them";
#endif
  ASSERT_TRUE(reset_host_peak());
  // The block went back to the system (a large allocation is its own mapping), so the new peak is below the old.
  EXPECT_LT(host_peak_bytes(), with_block - static_cast<std::int64_t>(kBytes) / 2);
}

}  // namespace
}  // namespace lmscope::eval
