// Gated DeltaNet's decay gate: a ← −exp(A_log[h]) · softplus(a + dt_bias[h]) over [T, H], float32. Launch:
// grid-stride elementwise, 256 threads; one read and one write per element.
#include <cmath>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

__global__ void decay_gate_kernel(float* a, const float* A_log, const float* dt_bias, std::int64_t n, std::int64_t H) {
  LMSCOPE_GRID_STRIDE(i, n) {
    const std::int64_t h = i % H;
    const float z = a[i] + dt_bias[h];
    const float softplus = z > 20.0f ? z : log1pf(expf(z));
    a[i] = -expf(A_log[h]) * softplus;
  }
}

}  // namespace

void decay_gate_f32(float* a, const float* A_log, const float* dt_bias, std::int64_t T, std::int64_t H, cudaStream_t stream) {
  if (T * H == 0) return;
  decay_gate_kernel<<<grid_for(T * H), 256, 0, stream>>>(a, A_log, dt_bias, T * H, H);
  check_last_launch("decay_gate");
}

}  // namespace lmscope::cuda
