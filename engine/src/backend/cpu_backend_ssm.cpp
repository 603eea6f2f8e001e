// The CPU backend's gated linear attention and state-space ops: one kernel for the recurrence
// S ← diag(exp(g_t)) S + k_t v_tᵀ, o_t = Sᵀ(scale q_t) in its chunked and token-by-token forms, which GLA, RetNet and
// HGRN2 call directly and Mamba's selective scan and Mamba2's SSD call after forming k, v and g from (Δ, A, B, x).
// Float32 storage, OpenMP across value heads.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu_backend.h"
#include "backend/cpu_expect.h"
#include "backend/cpu_vector_loops.h"

namespace lmscope {

using cpu::expect;
using cpu::expect_f32;
using cpu::worth_threads;

namespace {

// Plain pointers for the kernel. g has g_rows rows (T, or 1 when the decay is the same at every token) and either
// one value per key channel of each value head (per_channel) or one per value head.
struct GlaArgs {
  const float *q, *k, *v, *g;
  float *state, *out;
  std::int64_t T, H, HV, dk, dv, g_rows;
  bool per_channel;
  float scale;
};

// Token after token, each token's update of a value head's state a vector loop (cpu::gated_recurrence_token). Scoring
// too runs this form whatever chunk size is asked: without BLAS inside the chunks, the chunked form's pairwise
// products cost more here than the recurrence (one thread, 1×512, tokens/s chunked → recurrent: Mamba2-130M 73 →
// 181, GLA / RetNet / HGRN2 at hidden 768 × 6 layers 435 → 510, 336 → 418, 382 → 477, before the vector loop).
void run_gla(const GlaArgs& a) {
  if (a.T == 0) return;
  const std::int64_t group = a.HV / a.H, dk = a.dk, dv = a.dv;
#pragma omp parallel for if (a.HV > 1 && worth_threads(a.HV * a.T * dk * dv))
  for (std::int64_t hv = 0; hv < a.HV; ++hv) {
    const std::int64_t h = hv / group;
    float* S = a.state + hv * dk * dv;
    std::vector<float> decay(static_cast<std::size_t>(dk));
    for (std::int64_t t = 0; t < a.T; ++t) {
      const std::int64_t row = a.g_rows == 1 ? 0 : t;
      const float* g = a.per_channel ? a.g + (row * a.HV + hv) * dk : a.g + row * a.HV + hv;
      cpu::gated_recurrence_token(S, g, a.per_channel, a.q + (t * a.H + h) * dk, a.k + (t * a.H + h) * dk,
                                  a.v + (t * a.HV + hv) * dv, a.scale, dk, dv, decay.data(), a.out + (t * a.HV + hv) * dv);
    }
  }
}

}  // namespace

void CpuBackend::add_bias(Tensor& x, const Tensor& bias) {
  expect_f32(x, "add_bias");
  expect_f32(bias, "add_bias");
  const std::int64_t T = x.rows(), C = x.cols();
  expect(bias.numel() == C, "add_bias", "bias must have one value per column");
  float* v = x.as<float>();
  const float* b = bias.as<float>();
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < C; ++c) v[t * C + c] += b[c];
}

void CpuBackend::gated_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                        const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state,
                                        Tensor& out) {
  const char* op = "gated_linear_attention";
  for (const Tensor* t : {&q, &k, &v, &g, static_cast<const Tensor*>(&state), static_cast<const Tensor*>(&out)})
    expect_f32(*t, op);
  const std::int64_t T = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, op, "num_v_heads must be a multiple of num_heads");
  expect(q.cols() == H * dk && k.rows() == T && k.cols() == H * dk, op, "q/k shape");
  expect(v.rows() == T && v.cols() == HV * dv && out.rows() == T && out.cols() == HV * dv, op, "v/out shape");
  expect(g.rows() == T || g.rows() == 1, op, "g must have T rows or one");
  expect(g.cols() == HV * dk || g.cols() == HV, op, "g must have a value per key channel or per head");
  expect(state.numel() == HV * dk * dv, op, "state must be [num_v_heads, head_k_dim, head_v_dim]");
  expect(chunk_size >= 0, op, "chunk_size must not be negative");
  const bool per_channel = g.cols() == HV * dk;  // with head_k_dim 1 both readings agree
  run_gla({q.as<float>(), k.as<float>(), v.as<float>(), g.as<float>(), state.as<float>(), out.as<float>(), T, H, HV, dk,
           dv, g.rows(), per_channel, s.scale});
}

void CpuBackend::selective_scan(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                const Tensor& C, const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  const char* op = "selective_scan";
  for (const Tensor* t : {&x, &delta, &A_log, &B, &C, &D, static_cast<const Tensor*>(&state), static_cast<const Tensor*>(&out)})
    expect_f32(*t, op);
  const std::int64_t T = x.rows(), Dn = x.cols(), N = A_log.cols();
  expect(delta.rows() == T && delta.cols() == Dn && out.rows() == T && out.cols() == Dn, op, "x/delta/out shape");
  expect(A_log.rows() == Dn, op, "A_log must be [channels, state_size]");
  expect(B.rows() == T && B.cols() == N && C.rows() == T && C.cols() == N, op, "B and C must be [T, state_size]");
  expect(D.numel() == Dn && state.numel() == Dn * N, op, "D must be [channels], state [channels, state_size]");
  expect(chunk_size >= 0, op, "chunk_size must not be negative");
  // As the kernel's terms: every channel is a value head of width 1 over one shared query/key head (q = C, k = B),
  // with v = Δ·x and a decay per state channel g = Δ·A. g is [T, Dn, N], so it is built for blocks of tokens at a
  // time (the state carries from block to block) to keep memory bounded on long inputs.
  const float* xs = x.as<float>();
  const float* dl = delta.as<float>();
  const float* al = A_log.as<float>();
  std::vector<float> A(static_cast<std::size_t>(Dn * N));
  for (std::int64_t i = 0; i < Dn * N; ++i) A[i] = -std::exp(al[i]);
  constexpr std::int64_t block = 256;
  std::vector<float> v, g;
  for (std::int64_t t0 = 0; t0 < T; t0 += block) {
    const std::int64_t n = std::min(block, T - t0);
    v.resize(static_cast<std::size_t>(n * Dn));
    g.resize(static_cast<std::size_t>(n * Dn * N));
#pragma omp parallel for if (worth_threads(n * Dn * N))
    for (std::int64_t t = 0; t < n; ++t)
      for (std::int64_t d = 0; d < Dn; ++d) {
        const float dt = dl[(t0 + t) * Dn + d];
        v[t * Dn + d] = dt * xs[(t0 + t) * Dn + d];
        for (std::int64_t j = 0; j < N; ++j) g[(t * Dn + d) * N + j] = dt * A[d * N + j];
      }
    run_gla({C.as<float>() + t0 * N, B.as<float>() + t0 * N, v.data(), g.data(), state.as<float>(),
             out.as<float>() + t0 * Dn, n, 1, Dn, N, 1, n, true, 1.0f});
  }
  float* o = out.as<float>();
  const float* ds = D.as<float>();
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t d = 0; d < Dn; ++d) o[t * Dn + d] += ds[d] * xs[t * Dn + d];
}

// The scoring form runs Mamba's recurrence directly, each token's update a vector over channels per state
// (cpu::selective_scan_channels), where selective_scan() above runs every channel as a value head of width 1 with
// its decays materialised. Mamba-130M, one thread, 1×512: 41 tokens/s through the chunked form that selective_scan
// then had, 244 through this.
void CpuBackend::selective_scan_gated(const Tensor& x, const Tensor& delta, const Tensor& delta_bias, const Tensor& A_log,
                                      const Tensor& B, const Tensor& C, const Tensor& D, const Tensor& z, std::int64_t,
                                      std::int64_t batch, Tensor& states, Tensor& out) {
  const char* op = "selective_scan_gated";
  for (const Tensor* t : {&x, &delta, &delta_bias, &A_log, &B, &C, &D, &z, static_cast<const Tensor*>(&states),
                          static_cast<const Tensor*>(&out)})
    expect_f32(*t, op);
  const std::int64_t rows = x.rows(), Dn = x.cols(), N = A_log.cols();
  expect(batch > 0 && rows % batch == 0, op, "rows must be batch x T");
  expect(delta.rows() == rows && delta.cols() == Dn && z.rows() == rows && z.cols() == Dn && out.rows() == rows &&
             out.cols() == Dn,
         op, "x/delta/z/out shape");
  expect(A_log.rows() == Dn && delta_bias.numel() == Dn && D.numel() == Dn, op, "A_log [channels, N], delta_bias and D [channels]");
  expect(B.rows() == rows && B.cols() == N && C.rows() == rows && C.cols() == N, op, "B and C must be [rows, state_size]");
  expect(states.numel() == batch * Dn * N, op, "states must be [batch * channels, state_size]");
  const std::int64_t T = rows / batch;
  const float* al = A_log.as<float>();
  std::vector<float> A(static_cast<std::size_t>(N * Dn)), h(static_cast<std::size_t>(batch * N * Dn));
  for (std::int64_t d = 0; d < Dn; ++d)
    for (std::int64_t n = 0; n < N; ++n) A[n * Dn + d] = -std::exp(al[d * N + n]);
  float* st = states.as<float>();
  for (std::int64_t s = 0; s < batch; ++s)  // states [channels, N] per sequence; the loops want [N, channels]
    for (std::int64_t d = 0; d < Dn; ++d)
      for (std::int64_t n = 0; n < N; ++n) h[(s * N + n) * Dn + d] = st[(s * Dn + d) * N + n];
  constexpr std::int64_t kBlock = 256;
  const std::int64_t blocks = (Dn + kBlock - 1) / kBlock;
#pragma omp parallel for if (worth_threads(rows * Dn * N))
  for (std::int64_t i = 0; i < batch * blocks; ++i) {
    const std::int64_t s = i / blocks, d0 = (i % blocks) * kBlock, d1 = std::min(Dn, d0 + kBlock);
    const std::int64_t r0 = s * T;
    cpu::selective_scan_channels(x.as<float>() + r0 * Dn, delta.as<float>() + r0 * Dn, delta_bias.as<float>(), A.data(),
                                 B.as<float>() + r0 * N, C.as<float>() + r0 * N, D.as<float>(), z.as<float>() + r0 * Dn, T,
                                 Dn, N, d0, d1, h.data() + s * N * Dn, out.as<float>() + r0 * Dn);
  }
  for (std::int64_t s = 0; s < batch; ++s)
    for (std::int64_t d = 0; d < Dn; ++d)
      for (std::int64_t n = 0; n < N; ++n) st[(s * Dn + d) * N + n] = h[(s * N + n) * Dn + d];
}

void CpuBackend::ssd(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                     const Tensor& D, const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  const char* op = "ssd";
  for (const Tensor* t : {&x, &dt, &A_log, &B, &C, &D, static_cast<const Tensor*>(&state), static_cast<const Tensor*>(&out)})
    expect_f32(*t, op);
  const std::int64_t T = x.rows(), G = s.num_heads, H = s.num_v_heads, N = s.head_k_dim, P = s.head_v_dim;
  expect(G > 0 && H % G == 0, op, "heads must be a multiple of groups");
  expect(x.cols() == H * P && out.rows() == T && out.cols() == H * P, op, "x/out shape");
  expect(dt.rows() == T && dt.cols() == H && A_log.numel() == H, op, "dt [T, heads], A_log [heads]");
  expect(B.rows() == T && B.cols() == G * N && C.rows() == T && C.cols() == G * N, op, "B and C must be [T, groups · N]");
  expect(D.numel() == H || D.numel() == H * P, op, "D must be [heads] or [heads · head_dim]");
  expect(state.numel() == H * N * P, op, "state must be [heads, N, head_dim]");
  expect(chunk_size >= 0, op, "chunk_size must not be negative");
  const float* xs = x.as<float>();
  const float* dts = dt.as<float>();
  const float* al = A_log.as<float>();
  std::vector<float> v(static_cast<std::size_t>(T * H * P)), g(static_cast<std::size_t>(T * H));
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t h = 0; h < H; ++h) {
      const float d = dts[t * H + h];
      g[t * H + h] = d * -std::exp(al[h]);
      for (std::int64_t p = 0; p < P; ++p) v[(t * H + h) * P + p] = d * xs[(t * H + h) * P + p];
    }
  run_gla({C.as<float>(), B.as<float>(), v.data(), g.data(), state.as<float>(), out.as<float>(), T, G, H, N, P, T, false, 1.0f});
  float* o = out.as<float>();
  const float* ds = D.as<float>();
  const bool per_channel = D.numel() == H * P;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < H * P; ++c) o[t * H * P + c] += ds[per_channel ? c : c / P] * xs[t * H * P + c];
}

void CpuBackend::forget_gate(Tensor& f, const Tensor* lower_bound, Tensor& k) {
  expect_f32(f, "forget_gate");
  expect_f32(k, "forget_gate");
  const std::int64_t T = f.rows(), C = f.cols();
  expect(k.rows() == T && k.cols() == C, "forget_gate", "k must have f's shape");
  expect(!lower_bound || lower_bound->numel() == C, "forget_gate", "lower_bound must have one value per column");
  float* fs = f.as<float>();
  float* ks = k.as<float>();
  const float* lb = lower_bound ? lower_bound->as<float>() : nullptr;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < C; ++c) {
      const float z = fs[t * C + c];
      const float logsig = std::min(z, 0.0f) - std::log1p(std::exp(-std::fabs(z)));
      float gv = logsig;
      if (lb) {
        // logaddexp(log lb, log(1 − lb) + logσ(f)) = log(lb + (1 − lb)·σ(f))
        const float l = lb[c];
        gv = std::log(l + (1.0f - l) * std::exp(logsig));
      }
      fs[t * C + c] = gv;
      ks[t * C + c] = -std::expm1(gv);
    }
}

}  // namespace lmscope
