// The CPU backend's linear-attention ops (DeltaNet, Gated DeltaNet): short causal convolution with carried state,
// per-head normalisations, the decay gate, the gated output norm, and the delta rule in its recurrent and chunked
// forms. Float32 like fla's kernels; OpenMP across rows or value heads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu_backend.h"
#include "backend/cpu_expect.h"

namespace lmscope {

using cpu::expect;
using cpu::expect_f32;
using cpu::worth_threads;

void CpuBackend::causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) {
  expect_f32(x, "causal_conv1d");
  expect_f32(w, "causal_conv1d");
  const std::int64_t T = x.rows(), C = x.cols(), K = w.cols();
  expect(w.rows() == C && K >= 1, "causal_conv1d", "weight must be [C, K]");
  expect(state.numel() == (K - 1) * C, "causal_conv1d", "state must be [K-1, C]");
  expect(out.rows() == T && out.cols() == C && out.data != x.data, "causal_conv1d", "output shape (and not in place)");
  const float* xs = x.as<float>();
  const float* st = state.as<float>();
  float* os = out.as<float>();
  // taps as [K, C] so the inner loop runs along channels
  std::vector<float> taps(static_cast<std::size_t>(K * C));
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t j = 0; j < K; ++j) taps[static_cast<std::size_t>(j * C + c)] = w.as<float>()[c * K + j];
#pragma omp parallel for if (worth_threads(T * C * K))
  for (std::int64_t t = 0; t < T; ++t) {
    float* o = os + t * C;
    std::fill(o, o + C, 0.0f);
    for (std::int64_t j = 0; j < K; ++j) {
      const std::int64_t r = t + j - (K - 1);  // row of x̃ relative to x: negative rows come from the state
      const float* src = r >= 0 ? xs + r * C : st + (K - 1 + r) * C;
      const float* tap = taps.data() + j * C;
      for (std::int64_t c = 0; c < C; ++c) o[c] += tap[c] * src[c];
    }
    if (silu)
      for (std::int64_t c = 0; c < C; ++c) o[c] = o[c] / (1.0f + std::exp(-o[c]));
  }
  // the new state: the last K-1 rows of [state; x]
  if (K > 1) {
    std::vector<float> next(static_cast<std::size_t>((K - 1) * C));
    for (std::int64_t r = 0; r < K - 1; ++r) {
      const std::int64_t src = T + r;  // row of [state; x] counted from the start of x̃ minus (K-1)
      const float* from = src >= K - 1 ? xs + (src - (K - 1)) * C : st + src * C;
      std::memcpy(next.data() + r * C, from, static_cast<std::size_t>(C) * sizeof(float));
    }
    std::memcpy(state.data, next.data(), next.size() * sizeof(float));
  }
}

void CpuBackend::l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) {
  expect_f32(x, "l2_normalize_heads");
  expect(head_dim > 0 && x.numel() % head_dim == 0, "l2_normalize_heads", "size is not a multiple of head_dim");
  const std::int64_t groups = x.numel() / head_dim;
  float* v = x.as<float>();
#pragma omp parallel for if (worth_threads(groups * head_dim))
  for (std::int64_t g = 0; g < groups; ++g) {
    float* h = v + g * head_dim;
    double ss = 0;
    for (std::int64_t i = 0; i < head_dim; ++i) ss += static_cast<double>(h[i]) * h[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss + eps));
    for (std::int64_t i = 0; i < head_dim; ++i) h[i] *= inv;
  }
}

void CpuBackend::sum_normalize_heads(Tensor& x, std::int64_t head_dim) {
  expect_f32(x, "sum_normalize_heads");
  expect(head_dim > 0 && x.numel() % head_dim == 0, "sum_normalize_heads", "size is not a multiple of head_dim");
  const std::int64_t groups = x.numel() / head_dim;
  float* v = x.as<float>();
  for (std::int64_t g = 0; g < groups; ++g) {
    float* h = v + g * head_dim;
    double s = 0;
    for (std::int64_t i = 0; i < head_dim; ++i) s += h[i];
    const float sum = static_cast<float>(s);
    for (std::int64_t i = 0; i < head_dim; ++i) h[i] /= sum;
  }
}

void CpuBackend::decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) {
  expect_f32(a, "decay_gate");
  const std::int64_t T = a.rows(), H = a.cols();
  expect(A_log.numel() == H && dt_bias.numel() == H, "decay_gate", "A_log and dt_bias need one value per head");
  float* g = a.as<float>();
  const float* al = A_log.as<float>();
  const float* db = dt_bias.as<float>();
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t h = 0; h < H; ++h) {
      const float z = g[t * H + h] + db[h];
      const float softplus = z > 20.0f ? z : std::log1p(std::exp(z));
      g[t * H + h] = -std::exp(al[h]) * softplus;
    }
}

void CpuBackend::rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) {
  expect_f32(x, "rmsnorm_gated");
  const std::int64_t R = x.rows(), C = x.cols();
  expect(w.numel() == C && gate.numel() == x.numel() && out.numel() == x.numel(), "rmsnorm_gated", "shape");
  const float* xs = x.as<float>();
  const float* ws = w.as<float>();
  const float* gs = gate.as<float>();
  float* os = out.as<float>();
#pragma omp parallel for if (worth_threads(R * C))
  for (std::int64_t r = 0; r < R; ++r) {
    const float* xr = xs + r * C;
    double ss = 0;
    for (std::int64_t c = 0; c < C; ++c) ss += static_cast<double>(xr[c]) * xr[c];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(C) + eps));
    for (std::int64_t c = 0; c < C; ++c) {
      const float g = gs[r * C + c];
      os[r * C + c] = xr[c] * inv * ws[c] * (g / (1.0f + std::exp(-g)));
    }
  }
}

namespace {

struct DeltaRuleArgs {
  const float *q, *k, *v, *beta, *g;
  float *state, *out;
  std::int64_t T, H, HV, dk, dv;
  float scale;
};

DeltaRuleArgs check_delta_rule(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                               const Tensor* g, const DeltaRuleShape& s, Tensor& state, Tensor& out) {
  for (const Tensor* t : {&q, &k, &v, &beta, static_cast<const Tensor*>(&state), static_cast<const Tensor*>(&out)})
    expect_f32(*t, op);
  const std::int64_t T = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, op, "num_v_heads must be a multiple of num_heads");
  expect(q.cols() == H * dk && k.rows() == T && k.cols() == H * dk, op, "q/k shape");
  expect(v.rows() == T && v.cols() == HV * dv && out.rows() == T && out.cols() == HV * dv, op, "v/out shape");
  expect(beta.rows() == T && beta.cols() == HV, op, "beta shape");
  expect(g == nullptr || (g->rows() == T && g->cols() == HV), op, "g shape");
  expect(state.numel() == HV * dk * dv, op, "state must be [num_v_heads, head_k_dim, head_v_dim]");
  return {q.as<float>(), k.as<float>(), v.as<float>(), beta.as<float>(), g ? g->as<float>() : nullptr,
          state.as<float>(), out.as<float>(), T, H, HV, dk, dv, s.scale};
}

}  // namespace

void CpuBackend::delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                      const Tensor* g, const DeltaRuleShape& shape, Tensor& state, Tensor& out) {
  const DeltaRuleArgs a = check_delta_rule("delta_rule_recurrent", q, k, v, beta, g, shape, state, out);
  const std::int64_t group = a.HV / a.H;
#pragma omp parallel for if (a.HV > 1 && worth_threads(a.HV * a.T * a.dk * a.dv))
  for (std::int64_t hv = 0; hv < a.HV; ++hv) {
    const std::int64_t h = hv / group;
    float* S = a.state + hv * a.dk * a.dv;  // [dk, dv]
    std::vector<float> u(static_cast<std::size_t>(a.dv));
    for (std::int64_t t = 0; t < a.T; ++t) {
      const float* qt = a.q + (t * a.H + h) * a.dk;
      const float* kt = a.k + (t * a.H + h) * a.dk;
      const float* vt = a.v + (t * a.HV + hv) * a.dv;
      const float b = a.beta[t * a.HV + hv];
      if (a.g) {
        const float decay = std::exp(a.g[t * a.HV + hv]);
        for (std::int64_t i = 0; i < a.dk * a.dv; ++i) S[i] *= decay;
      }
      // u = β (v − Sᵀk)
      std::fill(u.begin(), u.end(), 0.0f);
      for (std::int64_t i = 0; i < a.dk; ++i) {
        const float ki = kt[i];
        const float* row = S + i * a.dv;
        for (std::int64_t d = 0; d < a.dv; ++d) u[d] += ki * row[d];
      }
      for (std::int64_t d = 0; d < a.dv; ++d) u[d] = b * (vt[d] - u[d]);
      // S += k uᵀ
      for (std::int64_t i = 0; i < a.dk; ++i) {
        const float ki = kt[i];
        float* row = S + i * a.dv;
        for (std::int64_t d = 0; d < a.dv; ++d) row[d] += ki * u[d];
      }
      // o = Sᵀ(scale q)
      float* ot = a.out + (t * a.HV + hv) * a.dv;
      std::fill(ot, ot + a.dv, 0.0f);
      for (std::int64_t i = 0; i < a.dk; ++i) {
        const float qi = qt[i] * a.scale;
        const float* row = S + i * a.dv;
        for (std::int64_t d = 0; d < a.dv; ++d) ot[d] += qi * row[d];
      }
    }
  }
}

// Per chunk of n tokens with cumulative log decay G_i (G = 0 without decay) and the state S from before the chunk:
//   A_ij = β_i (k_i·k_j) e^{G_i−G_j} for j < i (strictly lower);  (I + A) U = diag(β) V;  (I + A) W = diag(β e^G) K
//   V' = U − W S;  o_i = e^{G_i} (s q_i) S + Σ_{j≤i} (s q_i·k_j) e^{G_i−G_j} V'_j;  S ← e^{G_n} S + Σ_j e^{G_n−G_j} k_j V'_jᵀ
// which is the recurrence above rewritten so that the work inside a chunk is matrix products (the WY/UT form).
void CpuBackend::delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                    const Tensor* g, const DeltaRuleShape& shape, std::int64_t chunk_size, Tensor& state,
                                    Tensor& out) {
  const DeltaRuleArgs a = check_delta_rule("delta_rule_chunked", q, k, v, beta, g, shape, state, out);
  expect(chunk_size > 0, "delta_rule_chunked", "chunk_size must be positive");
  const std::int64_t group = a.HV / a.H, C = chunk_size, dk = a.dk, dv = a.dv;
#pragma omp parallel for if (a.HV > 1 && worth_threads(a.HV * a.T * a.dk * a.dv))
  for (std::int64_t hv = 0; hv < a.HV; ++hv) {
    const std::int64_t h = hv / group;
    float* S = a.state + hv * dk * dv;
    std::vector<float> G(static_cast<std::size_t>(C)), A(static_cast<std::size_t>(C * C));
    std::vector<float> U(static_cast<std::size_t>(C * dv)), W(static_cast<std::size_t>(C * dk));
    auto krow = [&](std::int64_t t) { return a.k + (t * a.H + h) * dk; };
    auto qrow = [&](std::int64_t t) { return a.q + (t * a.H + h) * dk; };
    for (std::int64_t t0 = 0; t0 < a.T; t0 += C) {
      const std::int64_t n = std::min(C, a.T - t0);
      for (std::int64_t i = 0; i < n; ++i) G[i] = (i ? G[i - 1] : 0.0f) + (a.g ? a.g[(t0 + i) * a.HV + hv] : 0.0f);
      // A (strictly lower) and the triangular solves by forward substitution
      for (std::int64_t i = 0; i < n; ++i) {
        const float bi = a.beta[(t0 + i) * a.HV + hv];
        const float* ki = krow(t0 + i);
        for (std::int64_t j = 0; j < i; ++j) {
          const float* kj = krow(t0 + j);
          float dot = 0;
          for (std::int64_t d = 0; d < dk; ++d) dot += ki[d] * kj[d];
          A[i * C + j] = bi * dot * std::exp(G[i] - G[j]);
        }
        float* ui = U.data() + i * dv;
        float* wi = W.data() + i * dk;
        const float* vi = a.v + ((t0 + i) * a.HV + hv) * dv;
        const float bg = bi * std::exp(G[i]);
        for (std::int64_t d = 0; d < dv; ++d) ui[d] = bi * vi[d];
        for (std::int64_t d = 0; d < dk; ++d) wi[d] = bg * ki[d];
        for (std::int64_t j = 0; j < i; ++j) {
          const float aij = A[i * C + j];
          const float* uj = U.data() + j * dv;
          const float* wj = W.data() + j * dk;
          for (std::int64_t d = 0; d < dv; ++d) ui[d] -= aij * uj[d];
          for (std::int64_t d = 0; d < dk; ++d) wi[d] -= aij * wj[d];
        }
      }
      // V' = U − W S, kept in U
      for (std::int64_t i = 0; i < n; ++i) {
        float* ui = U.data() + i * dv;
        const float* wi = W.data() + i * dk;
        for (std::int64_t e = 0; e < dk; ++e) {
          const float we = wi[e];
          const float* srow = S + e * dv;
          for (std::int64_t d = 0; d < dv; ++d) ui[d] -= we * srow[d];
        }
      }
      // outputs: the state's contribution, then the chunk's own
      for (std::int64_t i = 0; i < n; ++i) {
        const float* qi = qrow(t0 + i);
        float* oi = a.out + ((t0 + i) * a.HV + hv) * dv;
        std::fill(oi, oi + dv, 0.0f);
        const float qs = a.scale * std::exp(G[i]);
        for (std::int64_t e = 0; e < dk; ++e) {
          const float qe = qs * qi[e];
          const float* srow = S + e * dv;
          for (std::int64_t d = 0; d < dv; ++d) oi[d] += qe * srow[d];
        }
        for (std::int64_t j = 0; j <= i; ++j) {
          const float* kj = krow(t0 + j);
          float dot = 0;
          for (std::int64_t d = 0; d < dk; ++d) dot += qi[d] * kj[d];
          const float c = a.scale * dot * std::exp(G[i] - G[j]);
          const float* uj = U.data() + j * dv;
          for (std::int64_t d = 0; d < dv; ++d) oi[d] += c * uj[d];
        }
      }
      // the state after the chunk
      const float total = G[n - 1];
      const float carry = std::exp(total);
      for (std::int64_t i = 0; i < dk * dv; ++i) S[i] *= carry;
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kj = krow(t0 + j);
        const float* uj = U.data() + j * dv;
        const float f = std::exp(total - G[j]);
        for (std::int64_t e = 0; e < dk; ++e) {
          const float ke = f * kj[e];
          float* srow = S + e * dv;
          for (std::int64_t d = 0; d < dv; ++d) srow[d] += ke * uj[d];
        }
      }
    }
  }
}

}  // namespace lmscope
