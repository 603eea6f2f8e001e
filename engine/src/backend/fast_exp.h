// e^x for the CPU backend's inner loops (softmax, SiLU, log-sum-exp), written so the compiler vectorises it: libm's
// expf is a call per element and was a fifth of a demo model's scoring time. Within a few ulp of expf (the test
// sweeps it); x is clamped to [-87.3, 88]: below, e^-87.3 ≈ 1e-38 (the smallest normal float) instead of a subnormal
// or 0, above, e^88 ≈ 1.7e38 instead of infinity — no caller needs either end.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>

namespace lmscope::cpu {

inline float exp_approx(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  // e^x = 2^n · e^r with n the nearest integer to x / ln 2 and |r| <= ln 2 / 2. Adding 1.5 · 2^23 rounds to an
  // integer in the low mantissa bits (round to nearest, no conversion instruction needed).
  constexpr float kShift = 12582912.0f;
  const float t = x * 1.44269504088896341f + kShift;
  const float n = t - kShift;
  // ln 2 in two parts, so r keeps its low bits (Cody–Waite)
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
  // Taylor to r^7: the remainder r^8 / 8! is below 5e-9 for |r| <= 0.347
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // n's bits from t's mantissa, biased into a float exponent (unsigned: a NaN's bits wrap instead of overflowing;
  // the NaN comes through p)
  const std::uint32_t biased = std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(kShift) + 127u;
  return p * std::bit_cast<float>(biased << 23);
}

}  // namespace lmscope::cpu
