// e^x for the CPU backend's inner loops (softmax, SiLU; a double form for the log-sum-exp), written so the compiler vectorises it: libm's
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

// torch's softplus, log(1 + e^x) (x itself above 20), written so the compiler vectorises it: libm's log1pf was an
// eighth of Mamba-130M's CPU scoring time, one call per channel and token. With e = e^x and u = 1 + e rounded,
// log1p(e) = log(u) · e / (u − 1) (exact to rounding: the quotient corrects u's rounding), e itself when u = 1; log(u)
// from u = m · 2^k with m in [√½, √2): k ln 2 + 2 atanh(s), s = (m − 1) / (m + 1), |s| ≤ 0.172, odd series to s^11.
inline float softplus_approx(float x) {
  const float e = exp_approx(x > 20.0f ? 20.0f : x);  // a NaN goes through, as torch's
  const float u = 1.0f + e;
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(u);
  // m's exponent chosen so that m lands in [√½, √2): subtract the bits of √½ (0x3f3504f3) before taking k
  const std::int32_t k = static_cast<std::int32_t>((bits - 0x3f3504f3u) >> 23);
  const float m = std::bit_cast<float>(bits - (static_cast<std::uint32_t>(k) << 23));
  const float sr = (m - 1.0f) / (m + 1.0f), s2 = sr * sr;
  float p = 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  p = p * s2 + 1.0f;
  const float log_u = static_cast<float>(k) * 0.693147180559945f + 2.0f * sr * p;
  const float d = u - 1.0f;
  const float l1p = d == 0.0f ? e : log_u * (e / d);
  return x > 20.0f ? x : l1p;
}

// e^x in double for x <= 0 (a logit minus the row's maximum: the LM head's log-sum-exp, which must stay exact to
// ~1e-15 relative, as libm's exp), vectorisable like exp_approx. x is clamped at -700: e^-700 ≈ 1e-304 stands for
// anything smaller, which a sum that holds e^0 = 1 cannot see.
inline double exp_nonpositive(double x) {
  x = x < -700.0 ? -700.0 : x;
  x = x > 0.0 ? 0.0 : x;
  constexpr double kShift = 6755399441055744.0;  // 1.5 · 2^52: adding it rounds to an integer in the low bits
  const double t = x * 1.4426950408889634 + kShift;
  const double n = t - kShift;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;  // ln 2 in two parts
  // Taylor to r^13: the remainder r^14 / 14! is below 5e-18 for |r| <= 0.347
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::uint64_t biased = std::bit_cast<std::uint64_t>(t) - std::bit_cast<std::uint64_t>(kShift) + 1023u;
  return p * std::bit_cast<double>(biased << 52);
}

}  // namespace lmscope::cpu
