// Warp- and block-wide sums for the row kernels. The block sum (one block per row): warp shuffles, then one warp
// over the warps' sums; every thread of the block must call it and all get the total.
#pragma once

namespace lmscope::cuda {

// The sum over the 32 lanes of a warp, in every lane (all lanes must call it).
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  return v;
}

__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_sums[32];
  __syncthreads();  // a previous call's readers are done with warp_sums
  v = warp_sum(v);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float s = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.f;
    s = warp_sum(s);
    if (threadIdx.x == 0) warp_sums[0] = s;
  }
  __syncthreads();
  return warp_sums[0];
}

}  // namespace lmscope::cuda
