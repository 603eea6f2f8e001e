// Gated linear attention (GLA, RetNet, HGRN2): S ← diag(exp(g_t)) S + k_t v_tᵀ, o_t = Sᵀ(scale · q_t) per value
// head, for scoring (batch sequences of T tokens) and decoding steps (one token of each of n sequences, each its
// own state). The kernel is linear_recurrence.cuh's (shared with Mamba2's SSD); see there for the launch shape.
#include "linear_recurrence.cuh"

namespace lmscope::cuda {
namespace {

linear_recurrence::Args recurrence_args(const GatedLinearAttentionArgs& g) {
  linear_recurrence::Args a{};
  a.q = g.q;
  a.k = g.k;
  a.v = g.v;
  a.g = g.g;
  a.state = g.state;
  a.out = g.out;
  a.T = g.T;
  a.H = g.H;
  a.HV = g.HV;
  a.dk = g.dk;
  a.dv = g.dv;
  a.per_channel = g.per_channel;
  a.g_per_token = g.g_per_token;
  a.scale = g.scale;
  return a;
}

}  // namespace

bool gated_linear_attention_supported(std::int64_t head_k_dim) { return linear_recurrence::supported(head_k_dim); }

void gated_linear_attention(const GatedLinearAttentionArgs& a, Elem e, cudaStream_t stream) {
  linear_recurrence::launch<false>(recurrence_args(a), e, a.batch, DecodeStates{}, "gated_linear_attention", stream);
}

void gated_linear_attention_step_batch(const GatedLinearAttentionArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream) {
  if (states.n < 1) throw std::runtime_error("gated_linear_attention_step_batch: no sequences");
  linear_recurrence::launch<false>(recurrence_args(a), e, states.n, states, "gated_linear_attention_step_batch", stream);
}

}  // namespace lmscope::cuda
