// RMSNorm. Launch: one block of 256 threads per row; a block-wide sum of squares, then the scaled write.
// Traffic: reads the row twice (second read mostly from L1/L2) and the weight, writes the row.
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

__global__ void rmsnorm_kernel(const float* x, const float* w, float eps, std::int64_t C, float* out) {
  const float* r = x + blockIdx.x * C;
  float ss = 0.f;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) ss += r[c] * r[c];
  __shared__ float warp_sums[32];
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffff, ss, o);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = ss;
  __syncthreads();
  if (threadIdx.x < 32) {
    float s = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.f;
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
    if (threadIdx.x == 0) warp_sums[0] = s;
  }
  __syncthreads();
  const float inv = rsqrtf(warp_sums[0] / static_cast<float>(C) + eps);
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) out[blockIdx.x * C + c] = r[c] * inv * w[c];
}

}  // namespace

void rmsnorm_f32(const float* x, const float* w, float eps, std::int64_t T, std::int64_t C, float* out, cudaStream_t stream) {
  if (T == 0) return;
  rmsnorm_kernel<<<static_cast<unsigned>(T), 256, 0, stream>>>(x, w, eps, C, out);
  check_last_launch("rmsnorm");
}

}  // namespace lmscope::cuda
