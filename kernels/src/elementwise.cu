// Elementwise ops (residual add, bias add, SwiGLU). Launch: grid-stride loops, 256 threads per block.
// Traffic: one read per input, one write per output; memory-bound.
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

unsigned blocks_for(std::int64_t n) { return static_cast<unsigned>(std::min<std::int64_t>((n + 255) / 256, 65535)); }

__global__ void add_kernel(float* acc, const float* x, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    acc[i] += x[i];
}

__global__ void add_bias_kernel(float* out, const float* bias, std::int64_t n, std::int64_t N) {
  for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[i] += bias[i % N];
}

__global__ void swiglu_kernel(const float* gate, const float* up, float* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g / (1.f + expf(-g)) * up[i];
  }
}

}  // namespace

void add_f32(float* acc, const float* x, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n), 256, 0, stream>>>(acc, x, n);
  check_last_launch("add");
}

void add_bias_f32(float* out, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream) {
  if (T * N == 0) return;
  add_bias_kernel<<<blocks_for(T * N), 256, 0, stream>>>(out, bias, T * N, N);
  check_last_launch("add_bias");
}

void swiglu_f32(const float* gate, const float* up, float* out, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  swiglu_kernel<<<blocks_for(n), 256, 0, stream>>>(gate, up, out, n);
  check_last_launch("swiglu");
}

}  // namespace lmscope::cuda
