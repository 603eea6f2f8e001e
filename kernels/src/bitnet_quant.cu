// BitNet b1.58's quantisers.
// - Activations: per row s = 127 / max(max|x|, 1e-5), then x = clamp(round(x·s), −128, 127) / s in place, float32,
//   rounding halves away from zero as fla's kernel or to even as torch.round (transformers' BitNet). Launch: one
//   256-thread block per row; two passes over the row (max, then quantise).
// - The product's fast form: the same quantiser (after the projection's RMSNorm, in the same pass) writes the
//   integers q = clamp(round(x·s), −128, 127) as int8, bfloat16 or float32 (all exact) and 1/s per row; after the
//   integer product with the ternary weights (int8 with int32 sums, or bf16 / float32 with float32 accumulation:
//   exact either way), `scale_rows` multiplies row r by (1/s_r)·weight_scale and adds the bias.
// - Weights (once per matrix, at load): s = 1 / max(mean|w|, 1e-5), out = clamp(round(w·s), −1, 1), halves to
//   even (torch.round); the scale 1/s multiplies the product. The sum of |w| is accumulated in double (as the CPU reference: the float mean then matches
//   it, and a weight next to a rounding boundary lands on the same side): per-block partial sums, added into one
//   device double with atomicAdd, then an elementwise pass reads it. Two launches, no host round trip.
#include <cmath>
#include <type_traits>

#include "block_reduce.cuh"
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

// The quantised integers in the product's operand type: float32, bf16 (both exact, elem.cuh's st) or int8 itself.
template <typename Q>
__device__ __forceinline__ void put_integer(Q* p, float v) {
  if constexpr (std::is_same_v<Q, std::int8_t>)
    *p = static_cast<std::int8_t>(v);
  else
    st(p, v);
}
template <typename Q>
__device__ __forceinline__ void put_integers8(Q* p, const float* v) {  // p 8-aligned in elements, 16-byte base
  if constexpr (std::is_same_v<Q, bf16>) {
    store8(p, v);
  } else if constexpr (std::is_same_v<Q, std::int8_t>) {
    unsigned lo = 0, hi = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      lo |= (static_cast<unsigned>(static_cast<int>(v[j])) & 0xffu) << (8 * j);
      hi |= (static_cast<unsigned>(static_cast<int>(v[4 + j])) & 0xffu) << (8 * j);
    }
    *reinterpret_cast<uint2*>(p) = make_uint2(lo, hi);
  } else {
#pragma unroll
    for (int j = 0; j < 8; ++j) p[j] = v[j];
  }
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

// The product's input quantiser, from x in its own type: optionally the projection's RMSNorm first (as rmsnorm.cu
// computes it: rsqrt(mean x² + eps), then x · inv · w), without rounding the normalised row to x's type, then the
// row's scale and integers. Three passes over the row (sum of squares, max, quantise) read it from L1 after the
// first; one kernel in place of norm, conversion and quantiser (three launches and two round trips of the row).
template <typename E, typename Q>
__global__ void quantize_int8_rows_kernel(const E* x, std::int64_t C, const float* norm, float eps, bool half_to_even,
                                          Q* q, float* inv_scale) {
  __shared__ float scratch[32];
  const E* row = x + blockIdx.x * C;
  Q* qrow = q + blockIdx.x * C;
  float inv = 1.f;
  if (norm) {
    float ss = 0.f;
    for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      const float v = ld(row + c);
      ss += v * v;
    }
    inv = rsqrtf(block_sum(ss) / static_cast<float>(C) + eps);
  }
  auto value = [&](std::int64_t c) { return norm ? ld(row + c) * inv * norm[c] : ld(row + c); };
  float mx = 0.f;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, fabsf(value(c)));
  mx = block_max_256(mx, scratch);
  const float s = 127.0f / fmaxf(mx, 1e-5f);
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float v = half_to_even ? rintf(value(c) * s) : roundf(value(c) * s);
    put_integer(qrow + c, fminf(fmaxf(v, -128.0f), 127.0f));
  }
  if (threadIdx.x == 0) inv_scale[blockIdx.x] = 1.0f / s;
}

// The common case, bf16 rows of C ≤ KC·256 values (C a multiple of 8, 16-byte aligned): one warp per row, each lane
// holding its runs of eight in registers, so the row is read once by 16-byte loads, reduced by shuffles alone and
// written by 16-byte stores. Eight rows per 256-thread block. (A 256-thread block per 2048-wide row took 135–146 µs
// per 16384 rows on an H200, waiting in its barriers; this form 62 µs.)
template <int KC, typename Q>
__global__ void __launch_bounds__(256) quantize_int8_rows_warp_kernel(const bf16* x, std::int64_t R, std::int64_t C,
                                                                      const float* norm, float eps, bool half_to_even,
                                                                      Q* q, float* inv_scale) {
  const int lane = threadIdx.x % 32;
  const std::int64_t r = blockIdx.x * 8 + threadIdx.x / 32;
  if (r >= R) return;
  const bf16* row = x + r * C;
  Q* qrow = q + r * C;
  float v[KC][8];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < KC; ++k) {
    const std::int64_t c0 = (lane + 32 * k) * 8;
    if (c0 < C) {
      load8(row + c0, v[k]);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[k][j] = 0.f;
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) ss += v[k][j] * v[k][j];
  }
  if (norm) {
    const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(C) + eps);
#pragma unroll
    for (int k = 0; k < KC; ++k) {
      const std::int64_t c0 = (lane + 32 * k) * 8;
      if (c0 >= C) continue;
      const float4 w0 = *reinterpret_cast<const float4*>(norm + c0), w1 = *reinterpret_cast<const float4*>(norm + c0 + 4);
      const float w[8] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w};
#pragma unroll
      for (int j = 0; j < 8; ++j) v[k][j] = v[k][j] * inv * w[j];
    }
  }
  float mx = 0.f;
#pragma unroll
  for (int k = 0; k < KC; ++k)
#pragma unroll
    for (int j = 0; j < 8; ++j) mx = fmaxf(mx, fabsf(v[k][j]));
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, o));
  const float s = 127.0f / fmaxf(mx, 1e-5f);
#pragma unroll
  for (int k = 0; k < KC; ++k) {
    const std::int64_t c0 = (lane + 32 * k) * 8;
    if (c0 >= C) continue;
    float o[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) o[j] = fminf(fmaxf(half_to_even ? rintf(v[k][j] * s) : roundf(v[k][j] * s), -128.0f), 127.0f);
    put_integers8(qrow + c0, o);
  }
  if (lane == 0) inv_scale[r] = 1.0f / s;
}

// Eight consecutive values per thread (C a multiple of 8, 16-byte aligned rows): the product's outputs are the
// widest tensors of a BitLinear, so this pass runs at bandwidth rather than at one scalar per thread.
template <typename A, typename B, typename O>
__global__ void scale_rows_kernel(const A* acc, const float* inv_scale, float weight_scale, const B* bias, std::int64_t R,
                                  std::int64_t C, O* out) {
  const std::int64_t per_row = C / 8;
  LMSCOPE_GRID_STRIDE(i, R * per_row) {
    const std::int64_t r = i / per_row, c0 = (i - r * per_row) * 8;
    const float f = inv_scale[r] * weight_scale;
    float v[8];
    if constexpr (std::is_same_v<A, float>) {
      const float4 a0 = *reinterpret_cast<const float4*>(acc + r * C + c0), a1 = *reinterpret_cast<const float4*>(acc + r * C + c0 + 4);
      v[0] = a0.x, v[1] = a0.y, v[2] = a0.z, v[3] = a0.w, v[4] = a1.x, v[5] = a1.y, v[6] = a1.z, v[7] = a1.w;
    } else {  // int32 sums: exact in float32 below 2^24 (|Σ q·t| ≤ 128·C)
      const int4 a0 = *reinterpret_cast<const int4*>(acc + r * C + c0), a1 = *reinterpret_cast<const int4*>(acc + r * C + c0 + 4);
      v[0] = a0.x, v[1] = a0.y, v[2] = a0.z, v[3] = a0.w, v[4] = a1.x, v[5] = a1.y, v[6] = a1.z, v[7] = a1.w;
    }
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      v[k] *= f;
      if (bias) v[k] += ld(bias + c0 + k);
    }
    if constexpr (std::is_same_v<O, bf16>) {
      store8(out + r * C + c0, v);
    } else {
      *reinterpret_cast<float4*>(out + r * C + c0) = make_float4(v[0], v[1], v[2], v[3]);
      *reinterpret_cast<float4*>(out + r * C + c0 + 4) = make_float4(v[4], v[5], v[6], v[7]);
    }
  }
}

// Any shape: one value per thread.
template <typename A, typename B, typename O>
__global__ void scale_rows_scalar_kernel(const A* acc, const float* inv_scale, float weight_scale, const B* bias,
                                         std::int64_t R, std::int64_t C, O* out) {
  LMSCOPE_GRID_STRIDE(i, R * C) {
    const std::int64_t r = i / C, c = i - r * C;
    float v = static_cast<float>(acc[i]) * inv_scale[r] * weight_scale;
    if (bias) v += ld(bias + c);
    st(out + i, v);
  }
}

template <typename E>
__global__ void abs_sum_kernel(const E* w, std::int64_t n, double* sum) {
  __shared__ double scratch[8];
  double acc = 0;
  LMSCOPE_GRID_STRIDE(i, n) acc += fabs(static_cast<double>(ld(w + i)));
  acc = warp_sum(acc);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double b = 0;
    for (int i = 0; i < static_cast<int>(blockDim.x / 32); ++i) b += scratch[i];
    atomicAdd(sum, b);
  }
}

template <typename E>
__global__ void ternary_kernel(const E* w, std::int64_t n, const double* sum, float* out) {
  const float mean = static_cast<float>(*sum / static_cast<double>(n));
  const float s = 1.0f / fmaxf(mean, 1e-5f);
  LMSCOPE_GRID_STRIDE(i, n) out[i] = fminf(fmaxf(rintf(ld(w + i) * s), -1.0f), 1.0f);
}

__global__ void to_int8_kernel(const float* x, std::int64_t n, std::int8_t* out) {
  LMSCOPE_GRID_STRIDE(i, n) out[i] = static_cast<std::int8_t>(rintf(x[i]));
}

template <typename Q>
void launch_quantize_rows(const void* x, Elem x_t, std::int64_t R, std::int64_t C, const float* norm, float eps,
                          bool half_to_even, Q* q, float* inv_scale, cudaStream_t stream) {
  if (R == 0) return;
  dispatch(x_t, [&](auto xtag) {
    using E = decltype(xtag);
    if constexpr (std::is_same_v<E, bf16>) {
      if (C % 8 == 0 && C <= 16 * 256 && aligned16(x) && aligned16(q) && (!norm || aligned16(norm))) {
        const unsigned blocks = static_cast<unsigned>((R + 7) / 8);
        auto go = [&](auto kernel) {
          kernel<<<blocks, 256, 0, stream>>>(static_cast<const bf16*>(x), R, C, norm, eps, half_to_even, q, inv_scale);
        };
        if (C <= 4 * 256)
          go(quantize_int8_rows_warp_kernel<4, Q>);
        else if (C <= 8 * 256)
          go(quantize_int8_rows_warp_kernel<8, Q>);
        else
          go(quantize_int8_rows_warp_kernel<16, Q>);
        return;
      }
    }
    quantize_int8_rows_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(static_cast<const E*>(x), C, norm, eps,
                                                                            half_to_even, q, inv_scale);
  });
  check_last_launch("quantize_activations_int8_rows");
}

template <typename A>
void launch_scale_rows(const A* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t, std::int64_t R,
                       std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  if (R * C == 0) return;
  dispatch(bias_t, [&](auto btag) {
    using B = decltype(btag);
    dispatch(out_t, [&](auto otag) {
      using O = decltype(otag);
      if (C % 8 == 0 && aligned16(acc) && aligned16(out))
        scale_rows_kernel<<<grid_for(R * C / 8), 256, 0, stream>>>(acc, inv_scale, weight_scale, static_cast<const B*>(bias),
                                                                   R, C, static_cast<O*>(out));
      else
        scale_rows_scalar_kernel<<<grid_for(R * C), 256, 0, stream>>>(acc, inv_scale, weight_scale,
                                                                      static_cast<const B*>(bias), R, C, static_cast<O*>(out));
    });
  });
  check_last_launch("scale_rows");
}

}  // namespace

void quantize_weight_ternary(const void* w, Elem w_t, std::int64_t n, float* out, double* workspace, cudaStream_t stream) {
  if (n == 0) return;
  if (cudaMemsetAsync(workspace, 0, sizeof(double), stream) != cudaSuccess) check_last_launch("quantize_weight_ternary");
  dispatch(w_t, [&](auto tag) {
    using E = decltype(tag);
    const unsigned blocks = std::min<unsigned>(grid_for(n), 1024);
    abs_sum_kernel<<<blocks, 256, 0, stream>>>(static_cast<const E*>(w), n, workspace);
    ternary_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<const E*>(w), n, workspace, out);
  });
  check_last_launch("quantize_weight_ternary");
}

void quantize_activations_int8_rows(const void* x, Elem x_t, std::int64_t R, std::int64_t C, const float* norm, float eps,
                                    bool half_to_even, void* q, Elem q_t, float* inv_scale, cudaStream_t stream) {
  dispatch(q_t, [&](auto tag) {
    using Q = decltype(tag);
    launch_quantize_rows(x, x_t, R, C, norm, eps, half_to_even, static_cast<Q*>(q), inv_scale, stream);
  });
}

void quantize_activations_int8_rows_i8(const void* x, Elem x_t, std::int64_t R, std::int64_t C, const float* norm, float eps,
                                       bool half_to_even, std::int8_t* q, float* inv_scale, cudaStream_t stream) {
  launch_quantize_rows(x, x_t, R, C, norm, eps, half_to_even, q, inv_scale, stream);
}

void scale_rows(const float* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t, std::int64_t R,
                std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  launch_scale_rows(acc, inv_scale, weight_scale, bias, bias_t, R, C, out, out_t, stream);
}

void scale_rows_i32(const std::int32_t* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t,
                    std::int64_t R, std::int64_t C, void* out, Elem out_t, cudaStream_t stream) {
  launch_scale_rows(acc, inv_scale, weight_scale, bias, bias_t, R, C, out, out_t, stream);
}

void round_to_int8(const float* x, std::int64_t n, std::int8_t* out, cudaStream_t stream) {
  if (n == 0) return;
  to_int8_kernel<<<grid_for(n), 256, 0, stream>>>(x, n, out);
  check_last_launch("round_to_int8");
}

void quantize_activations_int8_f32(float* x, std::int64_t R, std::int64_t C, bool half_to_even, cudaStream_t stream) {
  if (R == 0) return;
  quantize_int8_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(x, C, half_to_even);
  check_last_launch("quantize_activations_int8");
}

}  // namespace lmscope::cuda
