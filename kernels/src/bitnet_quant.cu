// BitNet b1.58's quantisers.
// - Activations: per row s = 127 / max(max|x|, 1e-5), then x = clamp(round(x·s), −128, 127) / s in place, float32,
//   rounding halves away from zero as fla's kernel or to even as torch.round (transformers' BitNet). Launch: one
//   256-thread block per row; two passes over the row (max, then quantise).
// - The product's fast form: the same quantiser (after the projection's RMSNorm, in the same pass) writes the
//   integers q = clamp(round(x·s), −128, 127) as bfloat16 or float32 (exact: |q| ≤ 128) and 1/s per row; after an integer-valued bf16 product with the ternary weights (exact in float32
//   accumulation), `scale_rows` multiplies row r by (1/s_r)·weight_scale and adds the bias.
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
    st(qrow + c, fminf(fmaxf(v, -128.0f), 127.0f));
  }
  if (threadIdx.x == 0) inv_scale[blockIdx.x] = 1.0f / s;
}

// The same for bf16 rows of up to kChunks·8·256 values, C a multiple of 8 and 16-byte aligned: each thread holds
// its runs of eight in registers, so the row is read once by 16-byte loads and written by 16-byte stores.
constexpr int kChunks = 4;
template <typename Q>
__global__ void quantize_int8_rows_bf16x8_kernel(const bf16* x, std::int64_t C, const float* norm, float eps,
                                                 bool half_to_even, Q* q, float* inv_scale) {
  __shared__ float scratch[32];
  const bf16* row = x + blockIdx.x * C;
  Q* qrow = q + blockIdx.x * C;
  float v[kChunks][8];
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const std::int64_t c0 = (threadIdx.x + static_cast<std::int64_t>(k) * blockDim.x) * 8;
    if (c0 < C) {
      load8(row + c0, v[k]);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[k][j] = 0.f;
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) ss += v[k][j] * v[k][j];
  }
  float mx = 0.f;
  if (norm) {
    const float inv = rsqrtf(block_sum(ss) / static_cast<float>(C) + eps);
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      const std::int64_t c0 = (threadIdx.x + static_cast<std::int64_t>(k) * blockDim.x) * 8;
#pragma unroll
      for (int j = 0; j < 8; ++j) v[k][j] = c0 < C ? v[k][j] * inv * norm[c0 + j] : 0.f;
    }
  }
#pragma unroll
  for (int k = 0; k < kChunks; ++k)
#pragma unroll
    for (int j = 0; j < 8; ++j) mx = fmaxf(mx, fabsf(v[k][j]));
  mx = block_max_256(mx, scratch);
  const float s = 127.0f / fmaxf(mx, 1e-5f);
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const std::int64_t c0 = (threadIdx.x + static_cast<std::int64_t>(k) * blockDim.x) * 8;
    if (c0 >= C) continue;
    float r[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) r[j] = fminf(fmaxf(half_to_even ? rintf(v[k][j] * s) : roundf(v[k][j] * s), -128.0f), 127.0f);
    if constexpr (std::is_same_v<Q, bf16>) {
      store8(qrow + c0, r);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) qrow[c0 + j] = r[j];
    }
  }
  if (threadIdx.x == 0) inv_scale[blockIdx.x] = 1.0f / s;
}

// Eight consecutive values per thread (C a multiple of 8, 16-byte aligned rows): the product's outputs are the
// widest tensors of a BitLinear, so this pass runs at bandwidth rather than at one scalar per thread.
template <typename B, typename O>
__global__ void scale_rows_kernel(const float* acc, const float* inv_scale, float weight_scale, const B* bias, std::int64_t R,
                                  std::int64_t C, O* out) {
  const std::int64_t per_row = C / 8;
  LMSCOPE_GRID_STRIDE(i, R * per_row) {
    const std::int64_t r = i / per_row, c0 = (i - r * per_row) * 8;
    const float f = inv_scale[r] * weight_scale;
    const float4 a0 = *reinterpret_cast<const float4*>(acc + r * C + c0), a1 = *reinterpret_cast<const float4*>(acc + r * C + c0 + 4);
    float v[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
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
template <typename B, typename O>
__global__ void scale_rows_scalar_kernel(const float* acc, const float* inv_scale, float weight_scale, const B* bias,
                                         std::int64_t R, std::int64_t C, O* out) {
  LMSCOPE_GRID_STRIDE(i, R * C) {
    const std::int64_t r = i / C, c = i - r * C;
    float v = acc[i] * inv_scale[r] * weight_scale;
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
  if (R == 0) return;
  dispatch(x_t, [&](auto xtag) {
    using E = decltype(xtag);
    dispatch(q_t, [&](auto tag) {
      using Q = decltype(tag);
      if constexpr (std::is_same_v<E, bf16>) {
        if (C % 8 == 0 && C <= kChunks * 8 * 256 && aligned16(x) && aligned16(q)) {
          quantize_int8_rows_bf16x8_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(
              static_cast<const bf16*>(x), C, norm, eps, half_to_even, static_cast<Q*>(q), inv_scale);
          return;
        }
      }
      quantize_int8_rows_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(static_cast<const E*>(x), C, norm, eps,
                                                                              half_to_even, static_cast<Q*>(q), inv_scale);
    });
  });
  check_last_launch("quantize_activations_int8_rows");
}

void scale_rows(const float* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t, std::int64_t R,
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

void quantize_activations_int8_f32(float* x, std::int64_t R, std::int64_t C, bool half_to_even, cudaStream_t stream) {
  if (R == 0) return;
  quantize_int8_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(x, C, half_to_even);
  check_last_launch("quantize_activations_int8");
}

}  // namespace lmscope::cuda
