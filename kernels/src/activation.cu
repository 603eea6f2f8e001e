// In-place elementwise maps: the activations (SiLU, sigmoid, ReLU, ELU+1, softplus, log-sigmoid, GELU, ReLU²),
// logit soft-capping, a scale and a fill, on float32 or bf16. Launch: grid-stride loops, 256 threads per block;
// one read and one write per element (fill: one write).
#include "activation.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename T>
__global__ void activate_kernel(T* x, std::int64_t n, int f) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, activation_value(ld(x + i), f));
}

template <typename T>
__global__ void softcap_kernel(T* x, std::int64_t n, float cap) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, cap * tanhf(ld(x + i) / cap));
}

template <typename T>
__global__ void scale_kernel(T* x, std::int64_t n, float s) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, ld(x + i) * s);
}

template <typename T>
__global__ void fill_kernel(T* x, std::int64_t n, float value) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, value);
}

}  // namespace

void activate(void* x, Elem t, std::int64_t n, int f, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    activate_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, f);
  });
  check_last_launch("activate");
}

void softcap(void* x, Elem t, std::int64_t n, float cap, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    softcap_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, cap);
  });
  check_last_launch("softcap");
}

void scale(void* x, Elem t, std::int64_t n, float s, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    scale_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, s);
  });
  check_last_launch("scale");
}

void fill(void* x, Elem t, std::int64_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    fill_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, value);
  });
  check_last_launch("fill");
}

}  // namespace lmscope::cuda
