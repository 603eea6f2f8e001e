// The CPU backend's gated linear attention and state-space ops: against independent double-precision recurrences
// written from the papers' formulas, whole and in pieces (the state carried across calls), for every chunk size a
// caller may ask for (the CPU runs the recurrence for all of them).
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
Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t n) { return make({n, t.cols()}, values(t.slice_rows(begin, n))); }
Tensor zeros(std::vector<std::int64_t> shape) {
  Tensor t = cpu.alloc(DType::F32, std::move(shape));
  cpu.fill(t, 0.0f);
  return t;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// S_t = diag(e^{g_t}) S_{t-1} + k_t v_tᵀ, o_t = S_tᵀ (scale q_t), in double, state [HV][dk][dv].
std::vector<float> gla_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                 const LinearAttentionShape& s) {
  const std::int64_t T = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  const bool per_channel = g.cols() == HV * dk;
  std::vector<double> S(static_cast<std::size_t>(HV * dk * dv), 0.0);
  std::vector<float> out(static_cast<std::size_t>(T * HV * dv));
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t hv = 0; hv < HV; ++hv) {
      const std::int64_t h = hv / (HV / H), gr = g.rows() == 1 ? 0 : t;
      for (std::int64_t e = 0; e < dk; ++e) {
        const double decay = std::exp(static_cast<double>(per_channel ? g.as<float>()[(gr * HV + hv) * dk + e] : g.as<float>()[gr * HV + hv]));
        for (std::int64_t d = 0; d < dv; ++d) {
          double& x = S[static_cast<std::size_t>((hv * dk + e) * dv + d)];
          x = decay * x + static_cast<double>(k.as<float>()[(t * H + h) * dk + e]) * v.as<float>()[(t * HV + hv) * dv + d];
        }
      }
      for (std::int64_t d = 0; d < dv; ++d) {
        double o = 0;
        for (std::int64_t e = 0; e < dk; ++e)
          o += s.scale * static_cast<double>(q.as<float>()[(t * H + h) * dk + e]) * S[static_cast<std::size_t>((hv * dk + e) * dv + d)];
        out[static_cast<std::size_t>((t * HV + hv) * dv + d)] = static_cast<float>(o);
      }
    }
  return out;
}

struct GlaCase {
  const char* name;
  std::int64_t T, H, HV, dk, dv;
  bool per_channel, one_row;
  float g_lo = -0.5f;  // log decays drawn from [g_lo, 0]
};

class GatedLinearAttention : public testing::TestWithParam<GlaCase> {};

TEST_P(GatedLinearAttention, ChunkedAndRecurrentMatchTheRecurrence) {
  const GlaCase c = GetParam();
  std::mt19937 rng(7);
  const LinearAttentionShape s{c.H, c.HV, c.dk, c.dv, static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.dk)))};
  const Tensor q = random_tensor({c.T, c.H * c.dk}, rng), k = random_tensor({c.T, c.H * c.dk}, rng);
  const Tensor v = random_tensor({c.T, c.HV * c.dv}, rng);
  const Tensor g = random_tensor({c.one_row ? 1 : c.T, c.per_channel ? c.HV * c.dk : c.HV}, rng, c.g_lo, 0.0f);
  const auto ref = gla_reference(q, k, v, g, s);

  Tensor S1 = zeros({c.HV, c.dk, c.dv}), S2 = zeros({c.HV, c.dk, c.dv});
  Tensor o1 = cpu.alloc(DType::F32, {c.T, c.HV * c.dv}), o2 = cpu.alloc(DType::F32, {c.T, c.HV * c.dv});
  cpu.gated_linear_attention(q, k, v, g, s, 16, S1, o1);  // chunks of 16; T is not a multiple
  cpu.gated_linear_attention(q, k, v, g, s, 0, S2, o2);
  EXPECT_LT(max_abs_diff(values(o1), ref), 1e-4);
  EXPECT_LT(max_abs_diff(values(o2), ref), 1e-4);
  EXPECT_LT(max_abs_diff(values(S1), values(S2)), 1e-4);  // the carried states agree too

  // in pieces: chunked for 23 tokens, then one at a time, then chunked again
  Tensor S3 = zeros({c.HV, c.dk, c.dv});
  std::vector<float> got;
  std::int64_t t = 0;
  for (std::int64_t n : {std::int64_t{23}, std::int64_t{1}, std::int64_t{1}, std::int64_t{1}, c.T - 26}) {
    Tensor o = cpu.alloc(DType::F32, {n, c.HV * c.dv});
    const Tensor gp = c.one_row ? g : rows(g, t, n);
    cpu.gated_linear_attention(rows(q, t, n), rows(k, t, n), rows(v, t, n), gp, s, n == 1 ? 0 : 16, S3, o);
    const auto part = values(o);
    got.insert(got.end(), part.begin(), part.end());
    t += n;
  }
  EXPECT_LT(max_abs_diff(got, ref), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Forms, GatedLinearAttention,
                         testing::Values(GlaCase{"per_channel", 45, 2, 2, 8, 6, true, false},
                                         GlaCase{"per_head", 45, 2, 2, 8, 6, false, false},
                                         GlaCase{"fixed_per_head", 45, 3, 3, 4, 8, false, true},
                                         GlaCase{"grouped_values", 40, 1, 4, 8, 2, false, false},
                                         GlaCase{"per_channel_grouped", 40, 2, 4, 4, 1, true, false},
                                         // decays far beyond float's exponent range over a chunk: still finite and exact
                                         GlaCase{"strong_decay", 45, 2, 2, 8, 6, true, false, -60.0f}),
                         [](const testing::TestParamInfo<GlaCase>& i) { return std::string(i.param.name); });

// Mamba's selective scan written out per channel: h ← exp(Δ A) h + Δ x B; y = C·h + D x.
TEST(SsmOps, SelectiveScanMatchesTheRecurrenceInBothForms) {
  std::mt19937 rng(3);
  const std::int64_t T = 37, Dn = 6, N = 5;
  const Tensor x = random_tensor({T, Dn}, rng), delta = random_tensor({T, Dn}, rng, 0.01f, 0.8f);
  const Tensor A_log = random_tensor({Dn, N}, rng, -1.0f, 1.5f), B = random_tensor({T, N}, rng), C = random_tensor({T, N}, rng);
  const Tensor D = random_tensor({Dn}, rng);
  std::vector<float> ref(static_cast<std::size_t>(T * Dn));
  for (std::int64_t d = 0; d < Dn; ++d) {
    std::vector<double> h(static_cast<std::size_t>(N), 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      const double dt = delta.as<float>()[t * Dn + d], xv = x.as<float>()[t * Dn + d];
      double y = 0;
      for (std::int64_t n = 0; n < N; ++n) {
        const double A = -std::exp(static_cast<double>(A_log.as<float>()[d * N + n]));
        h[n] = std::exp(dt * A) * h[n] + dt * xv * B.as<float>()[t * N + n];
        y += C.as<float>()[t * N + n] * h[n];
      }
      ref[static_cast<std::size_t>(t * Dn + d)] = static_cast<float>(y + D.as<float>()[d] * xv);
    }
  }
  for (std::int64_t chunk : {0, 8, 64}) {
    Tensor S = zeros({Dn, N}), out = cpu.alloc(DType::F32, {T, Dn});
    cpu.selective_scan(x, delta, A_log, B, C, D, chunk, S, out);
    EXPECT_LT(max_abs_diff(values(out), ref), 1e-5) << "chunk " << chunk;
  }
  // pieces: the state carries across calls
  Tensor S = zeros({Dn, N});
  std::vector<float> got;
  for (std::int64_t t = 0, n; t < T; t += n) {
    n = t == 0 ? 20 : 1;
    Tensor out = cpu.alloc(DType::F32, {n, Dn});
    cpu.selective_scan(rows(x, t, n), rows(delta, t, n), A_log, rows(B, t, n), rows(C, t, n), D, n == 1 ? 0 : 8, S, out);
    const auto part = values(out);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_LT(max_abs_diff(got, ref), 1e-5);
}

// Mamba's scoring form with the step size's softplus and the output gate inside, against the same recurrence in
// double: two sequences from random states (which it leaves at the end), channels spanning two of the CPU loop's
// 256-channel passes; and against the composition of the separate ops (Backend's default).
TEST(SsmOps, SelectiveScanGatedMatchesTheRecurrence) {
  std::mt19937 rng(7);
  const std::int64_t batch = 2, T = 40, Dn = 300, N = 5, rows_n = batch * T;
  const Tensor x = random_tensor({rows_n, Dn}, rng), delta = random_tensor({rows_n, Dn}, rng, -4.0f, 1.0f);
  const Tensor bias = random_tensor({Dn}, rng, -1.0f, 1.0f), z = random_tensor({rows_n, Dn}, rng, -3.0f, 3.0f);
  const Tensor A_log = random_tensor({Dn, N}, rng, -1.0f, 1.5f), B = random_tensor({rows_n, N}, rng), C = random_tensor({rows_n, N}, rng);
  const Tensor D = random_tensor({Dn}, rng), S0 = random_tensor({batch * Dn, N}, rng);
  auto f = [](const Tensor& t, std::int64_t i) { return static_cast<double>(t.as<float>()[i]); };
  std::vector<float> ref(static_cast<std::size_t>(rows_n * Dn)), ref_state(static_cast<std::size_t>(batch * Dn * N));
  for (std::int64_t s = 0; s < batch; ++s)
    for (std::int64_t d = 0; d < Dn; ++d) {
      std::vector<double> h(static_cast<std::size_t>(N));
      for (std::int64_t n = 0; n < N; ++n) h[n] = f(S0, (s * Dn + d) * N + n);
      for (std::int64_t t = s * T; t < (s + 1) * T; ++t) {
        const double v = f(delta, t * Dn + d) + f(bias, d), dt = v > 20 ? v : std::log1p(std::exp(v));
        const double xv = f(x, t * Dn + d), zv = f(z, t * Dn + d);
        double y = 0;
        for (std::int64_t n = 0; n < N; ++n) {
          h[n] = std::exp(dt * -std::exp(f(A_log, d * N + n))) * h[n] + dt * xv * f(B, t * N + n);
          y += f(C, t * N + n) * h[n];
        }
        ref[static_cast<std::size_t>(t * Dn + d)] = static_cast<float>((y + f(D, d) * xv) * zv / (1 + std::exp(-zv)));
      }
      for (std::int64_t n = 0; n < N; ++n) ref_state[static_cast<std::size_t>((s * Dn + d) * N + n)] = static_cast<float>(h[n]);
    }
  Tensor S = make(S0.shape, values(S0)), out = cpu.alloc(DType::F32, {rows_n, Dn});
  cpu.selective_scan_gated(x, delta, bias, A_log, B, C, D, z, 16, batch, S, out);
  EXPECT_LT(max_abs_diff(values(out), ref), 1e-5);
  EXPECT_LT(max_abs_diff(values(S), ref_state), 1e-5);
  Tensor S2 = make(S0.shape, values(S0)), out2 = cpu.alloc(DType::F32, {rows_n, Dn});
  cpu.Backend::selective_scan_gated(x, delta, bias, A_log, B, C, D, z, 16, batch, S2, out2);
  EXPECT_LT(max_abs_diff(values(out2), ref), 1e-5) << "the composed ops";
  EXPECT_LT(max_abs_diff(values(S2), ref_state), 1e-5) << "the composed ops";
}

// Mamba2's SSD per head: S ← exp(dt A) S + B (dt x)ᵀ; y = Sᵀ C + D x, with B/C shared by the heads of a group.
void check_ssd(bool d_per_channel) {
  std::mt19937 rng(d_per_channel ? 5 : 4);
  const std::int64_t T = 50, G = 2, H = 4, N = 6, P = 3;
  const Tensor x = random_tensor({T, H * P}, rng), dt = random_tensor({T, H}, rng, 0.01f, 0.6f);
  const Tensor A_log = random_tensor({H}, rng, -1.0f, 2.0f), B = random_tensor({T, G * N}, rng), C = random_tensor({T, G * N}, rng);
  const Tensor D = random_tensor({d_per_channel ? H * P : H}, rng);
  std::vector<float> ref(static_cast<std::size_t>(T * H * P));
  for (std::int64_t h = 0; h < H; ++h) {
    const std::int64_t gr = h / (H / G);
    const double A = -std::exp(static_cast<double>(A_log.as<float>()[h]));
    std::vector<double> S(static_cast<std::size_t>(N * P), 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      const double d = dt.as<float>()[t * H + h];
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t p = 0; p < P; ++p)
          S[n * P + p] = std::exp(d * A) * S[n * P + p] + B.as<float>()[t * G * N + gr * N + n] * d * x.as<float>()[t * H * P + h * P + p];
      for (std::int64_t p = 0; p < P; ++p) {
        double y = 0;
        for (std::int64_t n = 0; n < N; ++n) y += S[n * P + p] * C.as<float>()[t * G * N + gr * N + n];
        const double dd = D.as<float>()[d_per_channel ? h * P + p : h];
        ref[static_cast<std::size_t>(t * H * P + h * P + p)] = static_cast<float>(y + dd * x.as<float>()[t * H * P + h * P + p]);
      }
    }
  }
  const LinearAttentionShape s{G, H, N, P, 1.0f};
  for (std::int64_t chunk : {0, 16, 64}) {
    Tensor S = zeros({H, N, P}), out = cpu.alloc(DType::F32, {T, H * P});
    cpu.ssd(x, dt, A_log, B, C, D, s, chunk, S, out);
    EXPECT_LT(max_abs_diff(values(out), ref), 1e-5) << "chunk " << chunk << (d_per_channel ? " D per channel" : "");
  }
}

TEST(SsmOps, SsdMatchesTheRecurrenceInBothForms) {
  check_ssd(false);
  check_ssd(true);
}

TEST(SsmOps, ForgetGateWithAndWithoutLowerBound) {
  const Tensor f0 = make({1, 3}, {-2.0f, 0.0f, 30.0f});
  Tensor f = make({1, 3}, values(f0)), k = cpu.alloc(DType::F32, {1, 3});
  cpu.forget_gate(f, nullptr, k);
  for (int c = 0; c < 3; ++c) {
    const double sig = 1.0 / (1.0 + std::exp(-static_cast<double>(f0.as<float>()[c])));
    EXPECT_NEAR(f.as<float>()[c], std::log(sig), 1e-6);
    EXPECT_NEAR(k.as<float>()[c], 1.0 - sig, 1e-6);
  }
  const Tensor lb = make({3}, {0.5f, 0.25f, 0.9f});
  f = make({1, 3}, values(f0));
  cpu.forget_gate(f, &lb, k);
  for (int c = 0; c < 3; ++c) {
    const double sig = 1.0 / (1.0 + std::exp(-static_cast<double>(f0.as<float>()[c]))), l = lb.as<float>()[c];
    EXPECT_NEAR(f.as<float>()[c], std::log(l + (1 - l) * sig), 1e-6);  // logaddexp(log lb, log(1-lb) + logσ)
    EXPECT_NEAR(k.as<float>()[c], (1 - l) * (1 - sig), 1e-6);
  }
}

TEST(SsmOps, SoftplusLogSigmoidAndBias) {
  Tensor x = make({1, 4}, {-30.0f, 0.0f, 3.0f, 25.0f});
  cpu.activate(x, Activation::Softplus);
  EXPECT_NEAR(x.as<float>()[0], std::log1p(std::exp(-30.0)), 1e-12);
  EXPECT_NEAR(x.as<float>()[1], std::log(2.0), 1e-6);
  EXPECT_NEAR(x.as<float>()[2], std::log1p(std::exp(3.0)), 1e-5);
  EXPECT_EQ(x.as<float>()[3], 25.0f);  // linear above 20, as torch
  Tensor y = make({1, 3}, {-100.0f, 0.0f, 100.0f});
  cpu.activate(y, Activation::LogSigmoid);
  EXPECT_NEAR(y.as<float>()[0], -100.0, 1e-4);  // no overflow on the negative side
  EXPECT_NEAR(y.as<float>()[1], -std::log(2.0), 1e-6);
  EXPECT_NEAR(y.as<float>()[2], 0.0, 1e-6);
  Tensor z = make({2, 2}, {1, 2, 3, 4});
  cpu.add_bias(z, make({2}, {10, 20}));
  EXPECT_EQ(values(z), (std::vector<float>{11, 22, 13, 24}));
}

}  // namespace
}  // namespace lmscope
