// The CPU backend's element loops that matter after the GEMMs (softmax rows, SiLU products, RMSNorm rows, the LM
// head's log-sum-exp), compiled for AVX-512, for AVX2 + FMA and for baseline x86-64, the one to run picked when the
// program loads by the CPU it runs on (GCC's target_clones; one build when another compiler builds it). The product
// targets baseline x86-64, so these loops otherwise ran 4 floats wide on every machine: a fifth of a demo model's
// scoring time was its attention softmax.
#pragma once

#include <cstdint>

namespace lmscope::cpu {

// row[j] = e^(row[j] - max) for j in [lo, hi] (max over that range), 0 elsewhere in [0, L); returns their sum.
float softmax_exp_row(float* row, std::int64_t lo, std::int64_t hi, std::int64_t L);

// o = silu(g) · u, elementwise (o may alias g or u).
void silu_product(const float* g, const float* u, float* o, std::int64_t n);

// out = x · (1 / sqrt(mean(x²) + eps)) · w for one row of n values (out may alias x); mean accumulated in double.
void rmsnorm_row(const float* x, const float* w, float eps, std::int64_t n, float* out);

// One token of the gated linear recurrence for one value head (GLA, RetNet, HGRN2, SSD on the CPU): with the decays
// e^g (g: dk log decays, or one for the whole head when !per_channel) written to decay [dk],
// S[e, :] ← decay[e]·S[e, :] + k[e]·v and o = Σ_e scale·q[e]·S[e, :]; S [dk, dv], o [dv].
void gated_recurrence_token(float* S, const float* g, bool per_channel, const float* q, const float* k, const float* v,
                            float scale, std::int64_t dk, std::int64_t dv, float* decay, float* o);

// Mamba's scoring scan (Backend::selective_scan_gated) over channels [d0, d1) of one sequence of T tokens, token
// after token, each token's update a vector over the channels: dt = softplus(delta + bias), h_n ← e^{dt·A_n} h_n +
// dt·x·B_n, out = (Σ_n C_n h_n + D·x)·silu(z). Row operands [T, Dn] (x, delta, z, out) and [T, N] (B, C); A [N, Dn]
// (−exp(A_log), state-major so that a state's decays are contiguous over channels); state h [N, Dn], updated.
void selective_scan_channels(const float* x, const float* delta, const float* bias, const float* A, const float* B,
                             const float* C, const float* D, const float* z, std::int64_t T, std::int64_t Dn, std::int64_t N,
                             std::int64_t d0, std::int64_t d1, float* h, float* out);

// One row of logits: its first argmax, its maximum and Σ e^(r - max) in double (exact to ~1e-15 relative, as libm).
struct RowLogits {
  std::int64_t argmax = 0;
  float max = 0;
  double sum_exp = 0;
};
RowLogits max_and_sum_exp(const float* r, std::int64_t n);

}  // namespace lmscope::cpu
