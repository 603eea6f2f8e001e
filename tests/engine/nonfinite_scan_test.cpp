// The weight scan finds the first NaN or infinity in each float type, at any alignment, and is fast enough to run
// on every load.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "lmscope/nonfinite_scan.h"

namespace lmscope {
namespace {

TEST(NonfiniteScan, FindsTheFirstNanOrInfinityInEachFloatType) {
  std::vector<float> f(10000, 0.5f);
  EXPECT_FALSE(first_nonfinite(DType::F32, f.data(), f.size()));
  f[7777] = std::numeric_limits<float>::infinity();
  f[9000] = std::nanf("");
  EXPECT_EQ(first_nonfinite(DType::F32, f.data(), f.size()), 7777u);
  f[7777] = -std::numeric_limits<float>::max();  // the largest finite magnitude is fine
  EXPECT_EQ(first_nonfinite(DType::F32, f.data(), f.size()), 9000u);

  std::vector<std::uint16_t> bf(5000, 0x3F80);  // 1.0
  EXPECT_FALSE(first_nonfinite(DType::BF16, bf.data(), bf.size()));
  bf[4999] = 0xFF80;  // -inf
  EXPECT_EQ(first_nonfinite(DType::BF16, bf.data(), bf.size()), 4999u);
  std::vector<std::uint16_t> h(5000, 0x7BFF);  // 65504, the largest finite f16
  EXPECT_FALSE(first_nonfinite(DType::F16, h.data(), h.size()));
  h[0] = 0x7E00;  // NaN
  EXPECT_EQ(first_nonfinite(DType::F16, h.data(), h.size()), 0u);
  EXPECT_FALSE(first_nonfinite(DType::I32, f.data(), f.size()));  // not a float weight type
}

TEST(NonfiniteScan, ReadsUnalignedData) {
  std::vector<unsigned char> bytes(4 * 100 + 1);
  for (std::size_t i = 0; i < 100; ++i) {
    const float v = i == 63 ? std::nanf("") : 1.0f;
    std::memcpy(bytes.data() + 1 + 4 * i, &v, 4);
  }
  EXPECT_EQ(first_nonfinite(DType::F32, bytes.data() + 1, 100), 63u);
}

TEST(NonfiniteScan, ScansAHundredMegabytesOfWeightsQuickly) {
  std::vector<float> f(32u << 20, 0.25f);  // 128 MiB, a small model's worth
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(first_nonfinite(DType::F32, f.data(), f.size()));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 2.0) << "scan of 128 MiB took " << s << " s";
}

}  // namespace
}  // namespace lmscope
