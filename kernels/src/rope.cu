// RoPE ("rotate half") from precomputed cos/sin tables. Launch: one thread per (token, head, pair), 256 per block.
// Traffic: reads and writes the rotated 2*half values of each head once, reads the table row.
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

__global__ void rope_kernel(float* x, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos,
                            const float* sin, std::int64_t half, std::int64_t pos0) {
  const std::int64_t n = T * heads * half;
  for (std::int64_t idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = idx % half, h = (idx / half) % heads, t = idx / (half * heads);
    float* v = x + t * heads * head_dim + h * head_dim;
    const float c = cos[(pos0 + t) * half + i], s = sin[(pos0 + t) * half + i];
    const float a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

}  // namespace

void rope_f32(float* x, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
              std::int64_t half, std::int64_t pos0, cudaStream_t stream) {
  const std::int64_t n = T * heads * half;
  if (n == 0) return;
  rope_kernel<<<static_cast<unsigned>(std::min<std::int64_t>((n + 255) / 256, 65535)), 256, 0, stream>>>(x, T, heads, head_dim, cos,
                                                                                                       sin, half, pos0);
  check_last_launch("rope");
}

}  // namespace lmscope::cuda
