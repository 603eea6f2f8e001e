// The gated RMSNorm on the delta rule's output: out = x / sqrt(mean(x²) + eps) · w · silu(gate) per row (a head's
// values), float32 or bf16 in and out. Launch: one warp per row for rows up to 2048 wide (8 rows per 256-thread
// block), else one 256-thread block per row; one read of x and gate and one write per element (the second read of
// x from L1).
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

__device__ float block_sum_256(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) r += scratch[w];
  __syncthreads();
  return r;
}

template <typename X, typename G, typename O>
__global__ void rmsnorm_gated_kernel(const X* x, const float* w, const G* gate, float eps, std::int64_t C, O* out) {
  __shared__ float scratch[32];
  const X* xr = x + blockIdx.x * C;
  float ss = 0.f;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float v = ld(xr + c);
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum_256(ss, scratch) / static_cast<float>(C) + eps);
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = ld(gate + blockIdx.x * C + c);
    st(out + blockIdx.x * C + c, ld(xr + c) * inv * w[c] * (g / (1.0f + expf(-g))));
  }
}

// One warp per row, for rows up to kWarpRowMax wide (a head's values, 64–512 for the delta-rule families: a block per
// row left most of its threads idle at the reduction's barriers).
constexpr int kWarpRowMax = 2048;

template <typename X, typename G, typename O>
__global__ void rmsnorm_gated_warp_kernel(const X* x, const float* w, const G* gate, float eps, std::int64_t R, int C, O* out) {
  const std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= R) return;
  const X* xr = x + row * C;
  const G* gr = gate + row * C;
  O* orow = out + row * C;
  float ss = 0.f;
  for (int c = lane; c < C; c += 32) {
    const float v = ld(xr + c);
    ss += v * v;
  }
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffff, ss, o);
  const float inv = rsqrtf(ss / static_cast<float>(C) + eps);
  for (int c = lane; c < C; c += 32) {
    const float g = ld(gr + c);
    st(orow + c, ld(xr + c) * inv * w[c] * (g / (1.0f + expf(-g))));
  }
}

}  // namespace

void rmsnorm_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                   std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  if (R == 0) return;
  dispatch(x_t, [&](auto xe) {
    dispatch(gate_t, [&](auto ge) {
      dispatch(out_t, [&](auto oe) {
        using X = decltype(xe);
        using G = decltype(ge);
        using O = decltype(oe);
        if (C <= kWarpRowMax)
          rmsnorm_gated_warp_kernel<<<static_cast<unsigned>((R + 7) / 8), 256, 0, stream>>>(
              static_cast<const X*>(x), w, static_cast<const G*>(gate), eps, R, static_cast<int>(C), static_cast<O*>(out));
        else
          rmsnorm_gated_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(static_cast<const X*>(x), w,
                                                                           static_cast<const G*>(gate), eps, C, static_cast<O*>(out));
      });
    });
  });
  check_last_launch("rmsnorm_gated");
}

}  // namespace lmscope::cuda
