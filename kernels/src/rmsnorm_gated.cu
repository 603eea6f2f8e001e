// The gated RMSNorms, float32 or bf16 in and out, per row:
// - after the norm (the delta rule's and GLA's output): out = x / sqrt(mean(x²) + eps) · w · silu(gate);
// - before it (Mamba2's norm_before_gate=False): y = x · silu(gate), out = y / sqrt(mean(y²) + eps) · w — one pass
//   instead of a SwiGLU product written out and normed again, and y is not rounded to bf16 in between.
// Launch: one warp per row for rows up to 2048 wide (8 rows per 256-thread block; bf16 rows in 16-byte vectors held in
// registers, other rows read twice, the second time from L1), else one 256-thread block per row holding its values in
// registers (16-byte vectors for bf16 rows up to 4096); one read of x and gate and one write per element.
#include <cstdint>
#include <type_traits>

#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

__device__ float block_sum_256(float v, float* scratch) {
  v = warp_sum(v);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) r += scratch[w];
  __syncthreads();
  return r;
}

// silu of a gate. bf16 gates (bf16 mode: the output is bf16 too) take the fast exponential and division, whose
// error (~1e-6 relative) is far below the output's rounding: the accurate forms made these kernels bound by their
// arithmetic (RetNet-1.3B's norm of 16384 × 4096 took 196 µs where moving its bytes takes ~105); float32 keeps them.
template <typename G>
__device__ __forceinline__ float silu(float g) {
  if constexpr (std::is_same_v<G, bf16>)
    return __fdividef(g, 1.0f + __expf(-g));
  else
    return g / (1.0f + expf(-g));
}

// The value whose mean square is taken: x itself, or x · silu(gate) when the gate comes first.
template <bool kGateFirst, typename X, typename G>
__device__ __forceinline__ float normed_input(const X* x, const G* gate, std::int64_t i) {
  return kGateFirst ? ld(x + i) * silu<G>(ld(gate + i)) : ld(x + i);
}

template <bool kGateFirst, typename X, typename G>
__device__ __forceinline__ float gated_output(const X* x, const G* gate, std::int64_t i, float inv_w) {
  return kGateFirst ? normed_input<true>(x, gate, i) * inv_w : ld(x + i) * inv_w * silu<G>(ld(gate + i));
}

// One 256-thread block per row; each thread keeps its first kBlockPer values (the normed input: x, or x · silu(gate))
// in registers between the reduction and the write, so rows up to 4096 wide (Mamba2's) read x and gate once and take
// each exponential once; longer rows recompute the rest.
constexpr int kBlockThreads = 256, kBlockPer = 16;

template <bool kGateFirst, typename X, typename G, typename O>
__global__ void rmsnorm_gated_kernel(const X* x, const float* w, const G* gate, float eps, std::int64_t C, O* out) {
  __shared__ float scratch[32];
  const X* xr = x + blockIdx.x * C;
  const G* gr = gate + blockIdx.x * C;
  O* orow = out + blockIdx.x * C;
  constexpr std::int64_t kHeld = static_cast<std::int64_t>(kBlockPer) * kBlockThreads;
  float vals[kBlockPer];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kBlockPer; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kBlockThreads;
    vals[k] = c < C ? normed_input<kGateFirst>(xr, gr, c) : 0.f;
    ss += vals[k] * vals[k];
  }
  for (std::int64_t c = threadIdx.x + kHeld; c < C; c += kBlockThreads) {
    const float v = normed_input<kGateFirst>(xr, gr, c);
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum_256(ss, scratch) / static_cast<float>(C) + eps);
#pragma unroll
  for (int k = 0; k < kBlockPer; ++k) {
    const std::int64_t c = threadIdx.x + static_cast<std::int64_t>(k) * kBlockThreads;
    if (c < C) st(orow + c, kGateFirst ? vals[k] * inv * w[c] : vals[k] * inv * w[c] * silu<G>(ld(gr + c)));
  }
  for (std::int64_t c = threadIdx.x + kHeld; c < C; c += kBlockThreads) st(orow + c, gated_output<kGateFirst>(xr, gr, c, inv * w[c]));
}

// bf16 rows of a multiple of 8 values, up to 4096 wide (Mamba2-1.3B's), on 16-byte-aligned tensors: as the kernel
// above, but each thread moves 8 consecutive values per 16-byte load or store (two vectors per thread at 4096)
// instead of one 2-byte value, so a warp reads whole 512-byte lines per instruction; the gate's SiLU is kept from
// the reduction to the write.
constexpr int kVec = 8, kVecPer = 2;
constexpr std::int64_t kVecRowMax = static_cast<std::int64_t>(kVec) * kVecPer * kBlockThreads;

// Eight bf16 values of a row at `at`: loads x and the gate, keeps the normed input (x, or x · silu(gate)) and
// silu(gate) in registers, and returns the values' sum of squares; store_gated8 writes the eight outputs.
template <bool kGateFirst>
__device__ __forceinline__ float load_gated8(const bf16* x, const bf16* gate, std::int64_t at, float* vals, float* gated) {
  float g[kVec], ss = 0.f;
  load8(x + at, vals);
  load8(gate + at, g);
#pragma unroll
  for (int i = 0; i < kVec; ++i) {
    gated[i] = silu<bf16>(g[i]);
    if constexpr (kGateFirst) vals[i] *= gated[i];
    ss += vals[i] * vals[i];
  }
  return ss;
}

template <bool kGateFirst>
__device__ __forceinline__ void store_gated8(bf16* out, const float* w, std::int64_t at, int c, const float* vals,
                                             const float* gated, float inv) {
  const float4 w0 = *reinterpret_cast<const float4*>(w + c), w1 = *reinterpret_cast<const float4*>(w + c + 4);
  const float ws[kVec] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w};
  float o[kVec];
#pragma unroll
  for (int i = 0; i < kVec; ++i) o[i] = vals[i] * inv * ws[i] * (kGateFirst ? 1.f : gated[i]);
  store8(out + at, o);
}

template <bool kGateFirst>
__global__ void rmsnorm_gated_vec_kernel(const bf16* x, const float* w, const bf16* gate, float eps, int C, bf16* out) {
  __shared__ float scratch[32];
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * C;
  float vals[kVecPer][kVec], gated[kVecPer][kVec];  // the normed input, and silu(gate) where it comes after
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kVecPer; ++k) {
    const int c = (threadIdx.x + k * kBlockThreads) * kVec;
    if (c < C) ss += load_gated8<kGateFirst>(x, gate, row + c, vals[k], gated[k]);
  }
  const float inv = rsqrtf(block_sum_256(ss, scratch) / static_cast<float>(C) + eps);
#pragma unroll
  for (int k = 0; k < kVecPer; ++k) {
    const int c = (threadIdx.x + k * kBlockThreads) * kVec;
    if (c < C) store_gated8<kGateFirst>(out, w, row + c, c, vals[k], gated[k], inv);
  }
}

// The same with a warp per row for bf16 rows up to kWarpRowMax wide, kPer vectors of 8 per lane (RetNet's and
// GLA's heads of 512: 185 µs for [131072, 512] on the H200 with the scalar warp kernel below, ~105 µs of traffic).
template <bool kGateFirst, int kPer>
__global__ void __launch_bounds__(256) rmsnorm_gated_warp_vec_kernel(const bf16* x, const float* w, const bf16* gate, float eps,
                                                                     std::int64_t R, int C, bf16* out) {
  const std::int64_t r = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (r >= R) return;
  const std::int64_t row = r * C;
  float vals[kPer][kVec], gated[kPer][kVec];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = (lane + 32 * k) * kVec;
    if (c < C) ss += load_gated8<kGateFirst>(x, gate, row + c, vals[k], gated[k]);
  }
  const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(C) + eps);
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = (lane + 32 * k) * kVec;
    if (c < C) store_gated8<kGateFirst>(out, w, row + c, c, vals[k], gated[k], inv);
  }
}

// One warp per row, for rows up to kWarpRowMax wide (a head's values, 64–512 for the delta-rule families: a block per
// row left most of its threads idle at the reduction's barriers).
constexpr int kWarpRowMax = 2048;

template <bool kGateFirst, typename X, typename G, typename O>
__global__ void rmsnorm_gated_warp_kernel(const X* x, const float* w, const G* gate, float eps, std::int64_t R, int C, O* out) {
  const std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= R) return;
  const X* xr = x + row * C;
  const G* gr = gate + row * C;
  O* orow = out + row * C;
  float ss = 0.f;
  for (int c = lane; c < C; c += 32) {
    const float v = normed_input<kGateFirst>(xr, gr, c);
    ss += v * v;
  }
  ss = warp_sum(ss);
  const float inv = rsqrtf(ss / static_cast<float>(C) + eps);
  for (int c = lane; c < C; c += 32) st(orow + c, gated_output<kGateFirst>(xr, gr, c, inv * w[c]));
}

template <bool kGateFirst>
void launch_rmsnorm_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                          std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  if (R == 0) return;
  dispatch(x_t, [&](auto xe) {
    dispatch(gate_t, [&](auto ge) {
      dispatch(out_t, [&](auto oe) {
        using X = decltype(xe);
        using G = decltype(ge);
        using O = decltype(oe);
        if constexpr (std::is_same_v<X, bf16> && std::is_same_v<G, bf16> && std::is_same_v<O, bf16>)
          if (C <= kVecRowMax && C % kVec == 0 && aligned16(x) && aligned16(gate) && aligned16(w) && aligned16(out)) {
            const auto* xb = static_cast<const bf16*>(x);
            const auto* gb = static_cast<const bf16*>(gate);
            auto* ob = static_cast<bf16*>(out);
            const int c = static_cast<int>(C);
            const auto warps = [&](auto per) {  // kPer = per.value vectors per lane
              rmsnorm_gated_warp_vec_kernel<kGateFirst, per.value>
                  <<<static_cast<unsigned>((R + 7) / 8), 256, 0, stream>>>(xb, w, gb, eps, R, c, ob);
            };
            if (C <= 256)
              warps(std::integral_constant<int, 1>{});
            else if (C <= 512)
              warps(std::integral_constant<int, 2>{});
            else if (C <= 1024)
              warps(std::integral_constant<int, 4>{});
            else if (C <= kWarpRowMax)
              warps(std::integral_constant<int, 8>{});
            else
              rmsnorm_gated_vec_kernel<kGateFirst><<<static_cast<unsigned>(R), kBlockThreads, 0, stream>>>(xb, w, gb, eps, c, ob);
            return;
          }
        if (C <= kWarpRowMax)
          rmsnorm_gated_warp_kernel<kGateFirst><<<static_cast<unsigned>((R + 7) / 8), 256, 0, stream>>>(
              static_cast<const X*>(x), w, static_cast<const G*>(gate), eps, R, static_cast<int>(C), static_cast<O*>(out));
        else
          rmsnorm_gated_kernel<kGateFirst><<<static_cast<unsigned>(R), kBlockThreads, 0, stream>>>(static_cast<const X*>(x), w,
                                                                           static_cast<const G*>(gate), eps, C, static_cast<O*>(out));
      });
    });
  });
  check_last_launch(kGateFirst ? "rmsnorm_of_gated" : "rmsnorm_gated");
}

}  // namespace

void rmsnorm_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                   std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  launch_rmsnorm_gated<false>(x, x_t, w, gate, gate_t, eps, R, C, out, out_t, stream);
}

void rmsnorm_of_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                      std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  launch_rmsnorm_gated<true>(x, x_t, w, gate, gate_t, eps, R, C, out, out_t, stream);
}

}  // namespace lmscope::cuda
