// BitNet b1.58's activation quantiser: per row s = 127 / max(max|x|, 1e-5), then x = clamp(round(x·s), −128, 127) / s
// in place, float32, rounding halves away from zero as fla's kernel or to even as torch.round (transformers' BitNet). Launch: one 256-thread block per row; two passes over
// the row (max, then quantise).
#include <cmath>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

__device__ float block_max_256(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = scratch[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) r = fmaxf(r, scratch[w]);
  __syncthreads();
  return r;
}

__global__ void quantize_int8_kernel(float* x, std::int64_t C, bool half_to_even) {
  __shared__ float scratch[32];
  float* row = x + blockIdx.x * C;
  float mx = 0.f;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, fabsf(row[c]));
  mx = block_max_256(mx, scratch);
  const float s = 127.0f / fmaxf(mx, 1e-5f);
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float q = half_to_even ? rintf(row[c] * s) : roundf(row[c] * s);
    row[c] = fminf(fmaxf(q, -128.0f), 127.0f) / s;
  }
}

}  // namespace

void quantize_activations_int8_f32(float* x, std::int64_t R, std::int64_t C, bool half_to_even, cudaStream_t stream) {
  if (R == 0) return;
  quantize_int8_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(x, C, half_to_even);
  check_last_launch("quantize_activations_int8");
}

}  // namespace lmscope::cuda
