// The (gated) delta rule, token by token, float32: for each value head hv with state S [dk, dv],
//   S ← exp(g_t)·S;  u_t = β_t (v_t − Sᵀk_t);  S ← S + k_t u_tᵀ;  o_t = Sᵀ(scale · q_t).
// Every column d of S evolves on its own (it needs k_t, q_t, β_t, g_t and v_t[d] only), so the work splits by
// columns: one warp owns kCols columns of one head, each lane keeps rows lane, lane + 32, ... of those columns in
// registers (dk ≤ 32·kRows), and each step costs two warp reductions per column (Sᵀk and Sᵀq).
// Launch shape: grid (num_v_heads, ceil(dv / (4·kCols)), sequences), 4 warps per block; a decoding step of several
// sequences (one token each, each its own state) is the same kernel with one grid layer per sequence. The state is read once at the start
// and written once at the end; per token, k_t and q_t (dk floats each, shared by all warps of the head, L1/L2 hits)
// and the warp's kCols values of v_t are read, kCols outputs written; the next token's inputs are loaded before
// the current one is computed to hide their latency. Tokens run in sequence: this serves decoding and, as the same
// function as the chunked form, scoring in fp32 mode and for head dims that delta_rule_chunked.cu does not cover.
#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kCols = 4;
constexpr int kRows = 8;  // dk ≤ 256
constexpr int kWarps = 4;

// states.n == 0: one sequence of a.T tokens with a.state; else sequence z = blockIdx.z has rows [z·T, z·T + T) and
// the state states.p[z].
__global__ void __launch_bounds__(kWarps * 32) delta_rule_kernel(DeltaRuleArgs a, const DecodeStates states) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t hv = blockIdx.x, h = hv / (a.HV / a.H), z = blockIdx.z;
  const std::int64_t d0 = (static_cast<std::int64_t>(blockIdx.y) * kWarps + warp) * kCols;
  if (d0 >= a.dv) return;
  float* S = (states.n > 0 ? states.p[z] : a.state) + hv * a.dk * a.dv;
  const std::int64_t row0 = z * a.T;
  float s[kCols][kRows];
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const std::int64_t i = lane + 32 * r, d = d0 + c;
      s[c][r] = i < a.dk && d < a.dv ? S[i * a.dv + d] : 0.f;
    }
  auto load = [&](std::int64_t t, float kr[kRows], float qr[kRows], float vv[kCols], float& b, float& decay) {
    t += row0;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const std::int64_t i = lane + 32 * r;
      kr[r] = i < a.dk ? a.k[(t * a.H + h) * a.dk + i] : 0.f;
      qr[r] = i < a.dk ? a.q[(t * a.H + h) * a.dk + i] * a.scale : 0.f;
    }
#pragma unroll
    for (int c = 0; c < kCols; ++c) vv[c] = d0 + c < a.dv ? a.v[(t * a.HV + hv) * a.dv + d0 + c] : 0.f;
    b = a.beta[t * a.HV + hv];
    decay = a.g ? expf(a.g[t * a.HV + hv]) : 1.f;
  };
  float kr[kRows], qr[kRows], vv[kCols], b = 0.f, decay = 1.f;
  float nk[kRows], nq[kRows], nv[kCols], nb = 0.f, ndecay = 1.f;
  if (a.T > 0) load(0, kr, qr, vv, b, decay);
  for (std::int64_t t = 0; t < a.T; ++t) {
    if (t + 1 < a.T) load(t + 1, nk, nq, nv, nb, ndecay);
    float o[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      float dot = 0.f;
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        s[c][r] *= decay;
        dot += kr[r] * s[c][r];
      }
      const float u = b * (vv[c] - warp_sum(dot));
      float oq = 0.f;
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        s[c][r] += kr[r] * u;
        oq += qr[r] * s[c][r];
      }
      o[c] = warp_sum(oq);
    }
    if (lane < kCols && d0 + lane < a.dv) {
      float mine = o[0];
#pragma unroll
      for (int c = 1; c < kCols; ++c)
        if (lane == c) mine = o[c];
      a.out[((row0 + t) * a.HV + hv) * a.dv + d0 + lane] = mine;
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      kr[r] = nk[r];
      qr[r] = nq[r];
    }
#pragma unroll
    for (int c = 0; c < kCols; ++c) vv[c] = nv[c];
    b = nb;
    decay = ndecay;
  }
#pragma unroll
  for (int c = 0; c < kCols; ++c)
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const std::int64_t i = lane + 32 * r, d = d0 + c;
      if (i < a.dk && d < a.dv) S[i * a.dv + d] = s[c][r];
    }
}

}  // namespace

bool delta_rule_supported(std::int64_t head_k_dim) { return head_k_dim >= 1 && head_k_dim <= 32 * kRows; }

void delta_rule_f32(const DeltaRuleArgs& a, cudaStream_t stream) {
  if (!delta_rule_supported(a.dk)) throw std::runtime_error("delta_rule: head_k_dim > 256 is not supported");
  if (a.H <= 0 || a.HV % a.H != 0) throw std::runtime_error("delta_rule: num_v_heads must be a multiple of num_heads");
  if (a.HV == 0 || a.dv == 0) return;
  const dim3 grid(static_cast<unsigned>(a.HV), static_cast<unsigned>((a.dv + kWarps * kCols - 1) / (kWarps * kCols)));
  delta_rule_kernel<<<grid, kWarps * 32, 0, stream>>>(a, DecodeStates{});
  check_last_launch("delta_rule");
}

void delta_rule_step_batch_f32(const DeltaRuleArgs& a, const DecodeStates& states, cudaStream_t stream) {
  if (!delta_rule_supported(a.dk)) throw std::runtime_error("delta_rule: head_k_dim > 256 is not supported");
  if (a.H <= 0 || a.HV % a.H != 0) throw std::runtime_error("delta_rule: num_v_heads must be a multiple of num_heads");
  if (states.n < 1 || states.n > kMaxDecodeRows || a.T != 1) throw std::runtime_error("delta_rule_step_batch: bad row count");
  if (a.HV == 0 || a.dv == 0) return;
  const dim3 grid(static_cast<unsigned>(a.HV), static_cast<unsigned>((a.dv + kWarps * kCols - 1) / (kWarps * kCols)),
                  static_cast<unsigned>(states.n));
  delta_rule_kernel<<<grid, kWarps * 32, 0, stream>>>(a, states);
  check_last_launch("delta_rule_step_batch");
}

}  // namespace lmscope::cuda
