// A block-wide sum for the row kernels (one block per row): warp shuffles, then one warp over the warps' sums.
// Every thread of the block must call it; all get the total.
#pragma once

namespace lmscope::cuda {

__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_sums[32];
  __syncthreads();  // a previous call's readers are done with warp_sums
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float s = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.f;
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
    if (threadIdx.x == 0) warp_sums[0] = s;
  }
  __syncthreads();
  return warp_sums[0];
}

}  // namespace lmscope::cuda
