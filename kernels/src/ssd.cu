// Mamba2's SSD, per head h (P = head_dim channels) of group h / (H / G), state S [N, P]:
//   S ← exp(dt_t,h · A_h) S + B_t (dt_t,h · x_t,h)ᵀ;  y_t,h = Sᵀ C_t + D · x_t,h,   A = −exp(A_log)
// for scoring (batch sequences of T tokens) and decoding steps. It is the gated linear attention recurrence with
// q = C, k = B, v = dt·x and a per-head decay, so it runs linear_recurrence.cuh's kernel with those operands formed
// on the fly from the staged tile (nothing [T, H, P]-sized is materialised) and D·x added at the store.
#include "linear_recurrence.cuh"

namespace lmscope::cuda {
namespace {

linear_recurrence::Args recurrence_args(const SsdArgs& s) {
  linear_recurrence::Args a{};
  a.q = s.C;
  a.k = s.B;
  a.v = s.x;
  a.g = s.dt;
  a.A_log = s.A_log;
  a.D = s.D;
  a.d_per_channel = s.d_per_channel;
  a.state = s.state;
  a.out = s.out;
  a.T = s.T;
  a.H = s.G;
  a.HV = s.H;
  a.dk = s.N;
  a.dv = s.P;
  a.scale = 1.0f;
  return a;
}

}  // namespace

bool ssd_supported(std::int64_t state_size) { return linear_recurrence::supported(state_size); }

void ssd(const SsdArgs& a, Elem e, cudaStream_t stream) {
  linear_recurrence::launch<true>(recurrence_args(a), e, a.batch, DecodeStates{}, "ssd", stream);
}

void ssd_step_batch(const SsdArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream) {
  if (states.n < 1) throw std::runtime_error("ssd_step_batch: no sequences");
  linear_recurrence::launch<true>(recurrence_args(a), e, states.n, states, "ssd_step_batch", stream);
}

}  // namespace lmscope::cuda
