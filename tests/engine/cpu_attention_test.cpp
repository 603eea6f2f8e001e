// The CPU backend's attention (GEMMs over blocks of 64 queries, a vectorised softmax) against the definition in
// double precision, on the shapes that exercise its block edges; and its vectorised exp against libm's.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu_backend.h"
#include "backend/cpu_vector_loops.h"
#include "backend/fast_exp.h"
#include "support/cpu_tensors.h"

namespace lmscope {
namespace {

CpuBackend& cpu = test::cpu_backend();

// softmax(scale · q·k, capped, over keys max(0, p - window + 1) .. p) · v, in double
std::vector<double> attention_definition(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& s) {
  const std::int64_t Tq = q.rows(), nh = s.num_heads, nkv = s.num_kv_heads, hd = s.head_dim;
  std::vector<double> out(static_cast<std::size_t>(Tq * nh * hd));
  for (std::int64_t h = 0; h < nh; ++h)
    for (std::int64_t i = 0; i < Tq; ++i) {
      const std::int64_t pos = s.q_pos0 + i, first = s.window > 0 ? std::max<std::int64_t>(0, pos - s.window + 1) : 0;
      const std::int64_t kvh = h / (nh / nkv);
      std::vector<double> p;
      for (std::int64_t j = first; j <= pos; ++j) {
        double dot = 0;
        for (std::int64_t d = 0; d < hd; ++d)
          dot += static_cast<double>(q.as<float>()[i * nh * hd + h * hd + d]) * k.as<float>()[j * nkv * hd + kvh * hd + d];
        dot *= s.scale;
        p.push_back(s.softcap > 0 ? s.softcap * std::tanh(dot / s.softcap) : dot);
      }
      const double mx = *std::max_element(p.begin(), p.end());
      double sum = 0;
      for (double& x : p) sum += x = std::exp(x - mx);
      for (std::int64_t d = 0; d < hd; ++d) {
        double acc = 0;
        for (std::int64_t j = first; j <= pos; ++j) acc += p[static_cast<std::size_t>(j - first)] * v.as<float>()[j * nkv * hd + kvh * hd + d];
        out[static_cast<std::size_t>(i * nh * hd + h * hd + d)] = acc / sum;
      }
    }
  return out;
}

struct Case {
  std::int64_t Tq, kv_len, q_pos0, window;
  float softcap;
};

TEST(CpuAttention, MatchesTheDefinitionAcrossBlockEdgesWindowsAndCaps) {
  std::mt19937 rng(3);
  // 4 query heads over 2 KV heads of 16 dims. Queries past one block of 64 and not a multiple of it; a prefix of
  // cached keys (q_pos0 > 0); a window narrower and wider than a block; a single decoding query; Gemma 2's cap.
  for (const Case& c : {Case{150, 150, 0, 0, 0}, Case{70, 200, 130, 0, 0}, Case{150, 150, 0, 33, 0},
                        Case{129, 129, 0, 100, 0}, Case{1, 300, 299, 0, 0}, Case{1, 300, 299, 17, 0},
                        Case{90, 90, 0, 0, 5.0f}}) {
    AttentionShape s;
    s.num_heads = 4;
    s.num_kv_heads = 2;
    s.head_dim = 16;
    s.q_pos0 = c.q_pos0;
    s.kv_len = c.kv_len;
    s.window = c.window;
    s.softcap = c.softcap;
    s.scale = 0.7f;
    // entries in [-2, 2]: 16-dim scores with std ~3.7 (times 0.7), a softmax far from uniform
    const Tensor q = test::random_tensor({c.Tq, 64}, rng, -2, 2), k = test::random_tensor({c.kv_len, 32}, rng, -2, 2),
                 v = test::random_tensor({c.kv_len, 32}, rng, -2, 2);
    Tensor out = cpu.alloc(DType::F32, {c.Tq, 64});
    cpu.attention(q, k, v, s, out);
    const auto want = attention_definition(q, k, v, s);
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(out.as<float>()[i] - want[i]));
    // float GEMMs (OpenBLAS) over 16 dims and up to 300 keys against double: 1.3e-6 on AVX2 kernels, 2.1e-6 on
    // AVX-512 ones; a wrong mask or block edge is off by 1e-2 or more
    EXPECT_LT(worst, 1e-5) << "Tq " << c.Tq << " kv_len " << c.kv_len << " q_pos0 " << c.q_pos0 << " window "
                           << c.window << " softcap " << c.softcap;
  }
}

TEST(CpuAttention, VectorisedExpIsWithinTwoUlpOfLibm) {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.001953125f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(cpu::exp_approx(x) - want) / want);
  }
  EXPECT_LT(worst, 2.4e-7);  // 2 ulp of float
  EXPECT_GT(cpu::exp_approx(-1000.0f), 0.0f);  // clamped: the smallest normal order, never a NaN or a negative
  EXPECT_LT(cpu::exp_approx(-1000.0f), 1.3e-38f);
  EXPECT_TRUE(std::isfinite(cpu::exp_approx(1000.0f)));
  EXPECT_TRUE(std::isnan(cpu::exp_approx(std::nanf(""))));
}

TEST(CpuAttention, VectorisedSoftplusIsWithinAFewUlpOfLibm) {
  double worst = 0;
  for (float x = -80.0f; x < 30.0f; x += 0.0009765625f) {
    const double want = x > 20.0f ? x : std::log1p(std::exp(static_cast<double>(x)));
    worst = std::max(worst, std::fabs(cpu::softplus_approx(x) - want) / want);
  }
  EXPECT_LT(worst, 6e-7);  // 5 ulp of float
  EXPECT_EQ(cpu::softplus_approx(25.0f), 25.0f);
  EXPECT_TRUE(std::isnan(cpu::softplus_approx(std::nanf(""))));
}

TEST(CpuAttention, DoubleExpOfTheLogSumExpIsWithinAFewUlpOfLibm) {
  double worst = 0;
  for (double x = -700.0; x <= 0.0; x += 0.0009765625 * 3.1) {
    const double want = std::exp(x);
    worst = std::max(worst, std::fabs(cpu::exp_nonpositive(x) - want) / want);
  }
  EXPECT_LT(worst, 1e-15);  // ~4.5 ulp of double
  EXPECT_EQ(cpu::exp_nonpositive(0.0), 1.0);
  EXPECT_GT(cpu::exp_nonpositive(-1e6), 0.0);  // clamped at e^-700, never a NaN
  EXPECT_LT(cpu::exp_nonpositive(-1e6), 1e-303);
  EXPECT_TRUE(std::isnan(cpu::exp_nonpositive(std::nan(""))));
}

// The LM head's per-chunk reduction: the first of tied maxima, and the sum of e^(r - max) as libm gives it.
TEST(CpuAttention, RowMaximumAndSumOfExponentials) {
  std::vector<float> r(1000);
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 20.0);
  r[417] = r[903] = 25.0f;  // tied maxima: the first counts
  const cpu::RowLogits got = cpu::max_and_sum_exp(r.data(), static_cast<std::int64_t>(r.size()));
  double want = 0;
  for (float v : r) want += std::exp(static_cast<double>(v) - 25.0);
  EXPECT_EQ(got.argmax, 417);
  EXPECT_EQ(got.max, 25.0f);
  EXPECT_NEAR(got.sum_exp, want, want * 1e-14);
}

}  // namespace
}  // namespace lmscope
