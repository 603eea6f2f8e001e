// The CPU backend's linear-attention and BitNet ops on small inputs: against independent double-precision
// formulas, and the forms that must agree (chunked vs recurrent delta rule, whole vs piecewise convolution).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend/cpu_backend.h"
#include "support/cpu_tensors.h"

namespace lmscope {
namespace {

CpuBackend& cpu = test::cpu_backend();
using test::make;
using test::random_tensor;
using test::values;

Tensor copy_of(const Tensor& t) { return make(t.shape, values(t)); }

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// Inputs of a delta-rule problem: q, k L2-normalised per head, beta in (0, 1), log decay g <= 0.
struct DeltaProblem {
  DeltaRuleShape shape;
  std::int64_t T;
  Tensor q, k, v, beta, g;
  DeltaProblem(std::int64_t T_, std::int64_t H, std::int64_t HV, std::int64_t dk, std::int64_t dv, std::uint32_t seed)
      : T(T_) {
    std::mt19937 rng(seed);
    shape = {H, HV, dk, dv, static_cast<float>(1.0 / std::sqrt(static_cast<double>(dk)))};
    q = random_tensor({T, H * dk}, rng);
    k = random_tensor({T, H * dk}, rng);
    v = random_tensor({T, HV * dv}, rng);
    beta = random_tensor({T, HV}, rng, 0.05f, 0.95f);
    g = random_tensor({T, HV}, rng, -0.3f, 0.0f);
    cpu.l2_normalize_heads(q, dk, 1e-6f);
    cpu.l2_normalize_heads(k, dk, 1e-6f);
  }
  Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t n) const { return copy_of(t.slice_rows(begin, n)); }
};

// The delta rule as the paper writes it, in double precision with the state as [d_v, d_k]:
// S_t = e^{g_t} S_{t-1} (I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ,  o_t = S_t (scale · q_t).
std::vector<float> reference_delta_rule(const DeltaProblem& p, bool gated) {
  const auto& s = p.shape;
  std::vector<float> out(static_cast<std::size_t>(p.T * s.num_v_heads * s.head_v_dim));
  for (std::int64_t hv = 0; hv < s.num_v_heads; ++hv) {
    const std::int64_t h = hv / (s.num_v_heads / s.num_heads), dk = s.head_k_dim, dv = s.head_v_dim;
    std::vector<double> S(static_cast<std::size_t>(dv * dk), 0.0), next(S.size());
    for (std::int64_t t = 0; t < p.T; ++t) {
      const float* q = p.q.as<float>() + (t * s.num_heads + h) * dk;
      const float* k = p.k.as<float>() + (t * s.num_heads + h) * dk;
      const float* v = p.v.as<float>() + (t * s.num_v_heads + hv) * dv;
      const double b = p.beta.as<float>()[t * s.num_v_heads + hv];
      const double decay = gated ? std::exp(static_cast<double>(p.g.as<float>()[t * s.num_v_heads + hv])) : 1.0;
      for (std::int64_t i = 0; i < dv; ++i)
        for (std::int64_t j = 0; j < dk; ++j) {
          double sk = 0;  // (S (I − β k kᵀ))_ij = S_ij − β (S k)_i k_j
          for (std::int64_t m = 0; m < dk; ++m) sk += S[i * dk + m] * k[m];
          next[i * dk + j] = decay * (S[i * dk + j] - b * sk * k[j]) + b * v[i] * k[j];
        }
      S = next;
      for (std::int64_t i = 0; i < dv; ++i) {
        double o = 0;
        for (std::int64_t j = 0; j < dk; ++j) o += S[i * dk + j] * s.scale * q[j];
        out[static_cast<std::size_t>((t * s.num_v_heads + hv) * dv + i)] = static_cast<float>(o);
      }
    }
  }
  return out;
}

TEST(DeltaRuleOp, RecurrentFormMatchesTheDefinition) {
  for (bool gated : {false, true}) {
    const DeltaProblem p(23, 2, 4, 8, 6, 7);
    Tensor state = cpu.alloc(DType::F32, {4, 8, 6});
    cpu.fill(state, 0);
    Tensor out = cpu.alloc(DType::F32, {p.T, 4 * 6});
    cpu.delta_rule_recurrent(p.q, p.k, p.v, p.beta, gated ? &p.g : nullptr, p.shape, state, out);
    EXPECT_LT(max_abs_diff(values(out), reference_delta_rule(p, gated)), 1e-5) << "gated " << gated;
  }
}

TEST(DeltaRuleOp, ChunkedFormMatchesRecurrentAcrossChunksAndCarriedState) {
  // 150 tokens: two full chunks of 64 and a partial one; the state carried in from a first call of 37 tokens.
  for (bool gated : {false, true})
    for (std::int64_t chunk : {64, 16, 1}) {
      const DeltaProblem p(150, 2, 4, 16, 12, 11);
      const std::int64_t first = 37, rest = p.T - first;
      auto run = [&](bool chunked) {
        Tensor state = cpu.alloc(DType::F32, {4, 16, 12});
        cpu.fill(state, 0);
        std::vector<float> all;
        for (auto [begin, n] : {std::pair{std::int64_t{0}, first}, std::pair{first, rest}}) {
          Tensor out = cpu.alloc(DType::F32, {n, 4 * 12});
          const Tensor q = p.rows(p.q, begin, n), k = p.rows(p.k, begin, n), v = p.rows(p.v, begin, n);
          const Tensor beta = p.rows(p.beta, begin, n), g = p.rows(p.g, begin, n);
          if (chunked)
            cpu.delta_rule_chunked(q, k, v, beta, gated ? &g : nullptr, p.shape, chunk, state, out);
          else
            cpu.delta_rule_recurrent(q, k, v, beta, gated ? &g : nullptr, p.shape, state, out);
          const auto o = values(out);
          all.insert(all.end(), o.begin(), o.end());
        }
        const auto s = values(state);
        all.insert(all.end(), s.begin(), s.end());  // the final states must agree too
        return all;
      };
      EXPECT_LT(max_abs_diff(run(true), run(false)), 2e-5) << "gated " << gated << " chunk " << chunk;
    }
}

TEST(DeltaRuleOp, BetaOfTwoIsAllowed) {
  // allow_neg_eigval doubles beta: I − 2kkᵀ is a reflection; both forms must still agree.
  DeltaProblem p(70, 1, 1, 8, 8, 3);
  cpu.scale(p.beta, 2.0f);
  Tensor s1 = cpu.alloc(DType::F32, {1, 8, 8}), s2 = cpu.alloc(DType::F32, {1, 8, 8});
  cpu.fill(s1, 0);
  cpu.fill(s2, 0);
  Tensor o1 = cpu.alloc(DType::F32, {70, 8}), o2 = cpu.alloc(DType::F32, {70, 8});
  cpu.delta_rule_recurrent(p.q, p.k, p.v, p.beta, &p.g, p.shape, s1, o1);
  cpu.delta_rule_chunked(p.q, p.k, p.v, p.beta, &p.g, p.shape, 64, s2, o2);
  EXPECT_LT(max_abs_diff(values(o1), values(o2)), 1e-4);
  EXPECT_LT(max_abs_diff(values(o1), reference_delta_rule(p, true)), 1e-4);
}

TEST(CausalConvOp, PiecesWithCarriedStateEqualTheWhole) {
  std::mt19937 rng(5);
  const std::int64_t T = 20, C = 6, K = 4;
  const Tensor x = random_tensor({T, C}, rng), w = random_tensor({C, K}, rng);
  Tensor state = cpu.alloc(DType::F32, {K - 1, C});
  cpu.fill(state, 0);
  Tensor whole = cpu.alloc(DType::F32, {T, C});
  cpu.causal_conv1d(x, w, state, true, whole);
  const auto final_state = values(state);

  cpu.fill(state, 0);
  std::vector<float> pieces;
  for (auto [begin, n] : {std::pair<std::int64_t, std::int64_t>{0, 2}, {2, 1}, {3, 9}, {12, 1}, {13, 7}}) {
    Tensor out = cpu.alloc(DType::F32, {n, C});
    cpu.causal_conv1d(copy_of(x.slice_rows(begin, n)), w, state, true, out);
    const auto o = values(out);
    pieces.insert(pieces.end(), o.begin(), o.end());
  }
  EXPECT_EQ(pieces, values(whole));
  EXPECT_EQ(values(state), final_state);
  // the state is the last K-1 inputs
  EXPECT_EQ(final_state, values(x.slice_rows(T - (K - 1), K - 1)));

  // out[t, c] = silu(Σ_j w[c, j] x[t - K + 1 + j, c]) with zeros before the start
  for (std::int64_t t : {0, 2, 10}) {
    double acc = 0;
    for (std::int64_t j = 0; j < K; ++j) {
      const std::int64_t r = t - K + 1 + j;
      if (r >= 0) acc += static_cast<double>(w.as<float>()[3 * K + j]) * x.as<float>()[r * C + 3];
    }
    EXPECT_NEAR(whole.as<float>()[t * C + 3], acc / (1 + std::exp(-acc)), 1e-6) << t;
  }
}

TEST(CausalConvOp, KernelOfOneHasNoState) {
  const Tensor x = make({2, 2}, {1, 2, 3, 4}), w = make({2, 1}, {2, -1});
  Tensor state = cpu.alloc(DType::F32, {0, 2});
  Tensor out = cpu.alloc(DType::F32, {2, 2});
  cpu.causal_conv1d(x, w, state, false, out);
  EXPECT_EQ(values(out), (std::vector<float>{2, -2, 6, -4}));
}

TEST(HeadNormOps, L2AndSumPerHead) {
  Tensor x = make({1, 4}, {3, 4, 1, 1});
  cpu.l2_normalize_heads(x, 2, 0.0f);
  EXPECT_NEAR(x.as<float>()[0], 0.6, 1e-7);
  EXPECT_NEAR(x.as<float>()[1], 0.8, 1e-7);
  EXPECT_NEAR(x.as<float>()[2], 1 / std::sqrt(2.0), 1e-7);
  Tensor tiny = make({1, 2}, {1e-4f, 0});  // eps 1e-6 inside the root dominates a tiny vector
  cpu.l2_normalize_heads(tiny, 2, 1e-6f);
  EXPECT_NEAR(tiny.as<float>()[0], 1e-4 / std::sqrt(1e-8 + 1e-6), 1e-6);
  Tensor s = make({1, 4}, {1, 3, 2, 2});
  cpu.sum_normalize_heads(s, 2);
  EXPECT_EQ(values(s), (std::vector<float>{0.25f, 0.75f, 0.5f, 0.5f}));
}

TEST(GateOps, DecayGateAndGatedRmsNorm) {
  Tensor a = make({2, 2}, {0.5f, 30.0f, -1.0f, 0.0f});
  const Tensor A_log = make({2}, {0.0f, std::log(2.0f)}), dt_bias = make({2}, {0.25f, -5.0f});
  cpu.decay_gate(a, A_log, dt_bias);
  EXPECT_NEAR(a.as<float>()[0], -std::log1p(std::exp(0.75)), 1e-6);
  EXPECT_NEAR(a.as<float>()[1], -2.0 * 25.0, 1e-5);  // softplus(25) = 25 above the threshold of 20
  EXPECT_NEAR(a.as<float>()[2], -std::log1p(std::exp(-0.75)), 1e-6);
  EXPECT_NEAR(a.as<float>()[3], -2.0 * std::log1p(std::exp(-5.0)), 1e-6);

  const Tensor x = make({1, 2}, {1, 3}), w = make({2}, {2, 1}), gate = make({1, 2}, {0, 1});
  Tensor out = cpu.alloc(DType::F32, {1, 2});
  cpu.rmsnorm_gated(x, w, gate, 0.0f, out);
  const double inv = 1 / std::sqrt(5.0);  // mean of squares (1 + 9) / 2
  EXPECT_NEAR(out.as<float>()[0], 1 * inv * 2 * 0.0, 1e-7);
  EXPECT_NEAR(out.as<float>()[1], 3 * inv * 1 * (1 / (1 + std::exp(-1.0))), 1e-6);
}

TEST(BitNetQuantOps, ActivationsRoundHalvesAwayFromZeroPerRow) {
  // row 0: max 127 so the scale is 1 and the values show the rounding; row 1: its own scale
  Tensor x = make({2, 5}, {127, 0.5f, -0.5f, 2.5f, -1.4f, 0.1f, 0.2f, 0.05f, -0.1f, 0.0f});
  cpu.quantize_activations_int8(x);
  EXPECT_EQ(values(x.slice_rows(0, 1)), (std::vector<float>{127, 1, -1, 3, -1}));
  const float s = 127.0f / 0.2f;
  EXPECT_FLOAT_EQ(x.as<float>()[6], 0.2f);
  EXPECT_FLOAT_EQ(x.as<float>()[7], std::round(0.05f * s) / s);
  EXPECT_FLOAT_EQ(x.as<float>()[8], -std::round(0.1f * s) / s);
  Tensor zeros = make({1, 3}, {0, 0, 0});  // max clamped to 1e-5: no division by zero
  cpu.quantize_activations_int8(zeros);
  EXPECT_EQ(values(zeros), (std::vector<float>{0, 0, 0}));
}

TEST(BitNetQuantOps, WeightsBecomeTernaryWithTheMeanMagnitudeAsScaleRoundingHalvesToEven) {
  // mean |w| = 1, so w·s = w
  const Tensor w = make({2, 4}, {0.5f, -0.5f, 1.0f, -1.0f, 2.0f, 0.0f, 1.5f, -1.5f});
  float scale = 0;
  const Tensor q = cpu.quantize_weight_ternary(w, &scale);
  EXPECT_EQ(values(q), (std::vector<float>{0, 0, 1, -1, 1, 0, 1, -1}));
  EXPECT_EQ(scale, 1.0f);
  const Tensor w2 = make({1, 4}, {0.3f, -0.12f, 0.03f, 0.35f});  // mean 0.2: w·s = 1.5, −0.6, 0.15, 1.75
  const Tensor q2 = cpu.quantize_weight_ternary(w2, &scale);
  EXPECT_EQ(values(q2), (std::vector<float>{1, -1, 0, 1}));
  EXPECT_FLOAT_EQ(scale, 0.2f);
}

TEST(BitNetQuantOps, BitLinearIsTheQuantisedProductTimesTheScaleThenTheBias) {
  // quant8 of [127, 63.4, −1] is itself (s = 1); ternary rows [1, 0, −1] and [0, 1, 1]
  Tensor x = make({1, 3}, {127, 63.4f, -1});
  const Tensor t = make({2, 3}, {1, 0, -1, 0, 1, 1});
  const Tensor bias = make({2}, {0.5f, -1});
  Tensor out = cpu.alloc(DType::F32, {1, 2});
  cpu.bitlinear(x, t, 0.25f, &bias, false, out);
  EXPECT_FLOAT_EQ(out.as<float>()[0], (127 + 1) * 0.25f + 0.5f);
  EXPECT_FLOAT_EQ(out.as<float>()[1], (63 - 1) * 0.25f - 1);
}

}  // namespace
}  // namespace lmscope
