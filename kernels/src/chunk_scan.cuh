// The cumulative sum of a 64-token chunk's log decays, which the chunked kernels (delta rule, linear attention)
// form in shared memory before anything else: one warp, rows lane and lane + 32.
#pragma once

namespace lmscope::cuda {

// x[i] ← x[0] + … + x[i] for i < 64, in place; called by all 32 lanes of one warp.
__device__ __forceinline__ void warp_cumsum64(float* x) {
  const int lane = threadIdx.x & 31;
  float x0 = x[lane], x1 = x[lane + 32];
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const float y0 = __shfl_up_sync(0xffffffff, x0, o), y1 = __shfl_up_sync(0xffffffff, x1, o);
    if (lane >= o) x0 += y0, x1 += y1;
  }
  x[lane] = x0;
  x[lane + 32] = x1 + __shfl_sync(0xffffffff, x0, 31);
}

}  // namespace lmscope::cuda
