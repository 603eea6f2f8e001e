// RoPE ("rotate half") from precomputed float32 cos/sin tables, on f32 or bf16 rows.
// Launch: one thread per (token, head, pair), grid-stride, 256 per block.
// Traffic: reads and writes the rotated 2*half values of each head once, reads the table row (L2-resident).
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename T>
__global__ void rope_kernel(T* x, std::int64_t Tn, std::int64_t heads, std::int64_t head_dim, const float* cos,
                            const float* sin, std::int64_t half, std::int64_t pos0) {
  const std::int64_t n = Tn * heads * half;
  for (std::int64_t idx = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = idx % half, h = (idx / half) % heads, t = idx / (half * heads);
    T* v = x + t * heads * head_dim + h * head_dim;
    const float c = cos[(pos0 + t) * half + i], s = sin[(pos0 + t) * half + i];
    const float a = ld(v + i), b = ld(v + i + half);
    st(v + i, a * c - b * s);
    st(v + i + half, b * c + a * s);
  }
}

}  // namespace

void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, cudaStream_t stream) {
  const std::int64_t n = T * heads * half;
  if (n == 0) return;
  dispatch(x_t, [&](auto a) {
    using A = decltype(a);
    rope_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), T, heads, head_dim, cos, sin, half, pos0);
  });
  check_last_launch("rope");
}

}  // namespace lmscope::cuda
