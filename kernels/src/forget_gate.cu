// HGRN2's forget gate, elementwise over f, k [T, C] (float32 or bf16, the same type), in place on f:
//   g = log(lb + (1 − lb) · σ(f)) (lb [C] the layer's lower bound; none: logsigmoid(f)),  k = 1 − exp(g)
// with the CPU reference's formulas (a stable logsigmoid, expm1 for k). Launch: grid-stride, 256 threads.
#include <cmath>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename E>
__global__ void forget_gate_kernel(E* f, E* k, const float* lower_bound, std::int64_t n, std::int64_t C) {
  LMSCOPE_GRID_STRIDE(i, n) {
    const float z = ld(f + i);
    const float logsig = fminf(z, 0.0f) - log1pf(expf(-fabsf(z)));
    float g = logsig;
    if (lower_bound) {
      const float l = lower_bound[i % C];
      g = logf(l + (1.0f - l) * expf(logsig));
    }
    st(f + i, g);
    st(k + i, -expm1f(g));
  }
}

}  // namespace

void forget_gate(void* f, void* k, Elem e, const float* lower_bound, std::int64_t T, std::int64_t C, cudaStream_t stream) {
  if (T * C == 0) return;
  dispatch(e, [&](auto tag) {
    using E = decltype(tag);
    forget_gate_kernel<<<grid_for(T * C), 256, 0, stream>>>(static_cast<E*>(f), static_cast<E*>(k), lower_bound, T * C, C);
  });
  check_last_launch("forget_gate");
}

}  // namespace lmscope::cuda
