// Element types of the kernels: float32 and bfloat16 storage, always float32 arithmetic. Kernels are templates on
// their input/output element types; dispatch() picks the instantiation from run-time Elem tags.
#pragma once

#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ float ld(const float* p) { return *p; }
__device__ __forceinline__ float ld(const bf16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float* p, float v) { *p = v; }
__device__ __forceinline__ void st(bf16* p, float v) { *p = __float2bfloat16(v); }

// Eight bf16 values held as 16 bytes, unpacked to float32.
__device__ __forceinline__ void unpack8(const uint4& u, float* f) {
  const auto* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __bfloat1622float2(h[i]);
    f[2 * i] = v.x;
    f[2 * i + 1] = v.y;
  }
}
// Eight consecutive bf16 values as one 16-byte load or store (p must be 16-byte aligned), unpacked to float32.
__device__ __forceinline__ void load8(const bf16* p, float* f) { unpack8(*reinterpret_cast<const uint4*>(p), f); }
__device__ __forceinline__ void store8(bf16* p, const float* f) {
  uint4 u;
  auto* h = reinterpret_cast<__nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) h[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
  *reinterpret_cast<uint4*>(p) = u;
}
inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// A grid-stride loop over [0, n) (the elementwise kernels' launch shape: any grid covers any n).
#define LMSCOPE_GRID_STRIDE(i, n) \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

inline unsigned grid_for(std::int64_t n, int threads = 256) {
  return static_cast<unsigned>(std::min<std::int64_t>((n + threads - 1) / threads, 65535 * 8));
}

// Calls f(T{}) with T = float or bf16 for the tag.
template <typename F>
void dispatch(Elem e, F&& f) {
  if (e == Elem::F32)
    f(float{});
  else
    f(bf16{});
}

}  // namespace lmscope::cuda
