// In-place elementwise maps for the linear-attention families: the activations (SiLU, sigmoid, ReLU, ELU+1,
// softplus, log-sigmoid), a scale and a fill, on float32 or bf16. Launch: grid-stride loops, 256 threads per block;
// one read and one write per element (fill: one write).
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename T>
__global__ void activate_kernel(T* x, std::int64_t n, int f) {
  LMSCOPE_GRID_STRIDE(i, n) {
    const float v = ld(x + i);
    float r;
    switch (f) {
      case 0: r = v / (1.0f + expf(-v)); break;           // silu
      case 1: r = 1.0f / (1.0f + expf(-v)); break;        // sigmoid
      case 2: r = fmaxf(v, 0.0f); break;                  // relu
      case 3: r = v > 0.0f ? v + 1.0f : expf(v); break;   // elu + 1
      case 4: r = v > 20.0f ? v : log1pf(expf(v)); break;  // softplus, torch's threshold
      default: r = fminf(v, 0.0f) - log1pf(expf(-fabsf(v))); break;  // log-sigmoid
    }
    st(x + i, r);
  }
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
