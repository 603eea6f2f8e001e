// SwiGLU: out = silu(gate) · up, float32 or bf16. Launch: grid-stride loops, 256 threads per block; on bf16 with an
// even count and 4-byte aligned pointers each step moves two elements (bf16x2 accesses). Traffic: two reads and one
// write per element; memory-bound.
#include <cstdint>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

__device__ __forceinline__ float silu_mul(float g, float u) { return g / (1.f + __expf(-g)) * u; }

template <typename A, typename B>
__global__ void swiglu_kernel(const A* gate, const A* up, B* out, std::int64_t n) {
  LMSCOPE_GRID_STRIDE(i, n) st(out + i, silu_mul(ld(gate + i), ld(up + i)));
}

__global__ void swiglu_bf16x2_kernel(const __nv_bfloat162* gate, const __nv_bfloat162* up, __nv_bfloat162* out, std::int64_t n2) {
  LMSCOPE_GRID_STRIDE(i, n2) {
    const float2 g = __bfloat1622float2(gate[i]), u = __bfloat1622float2(up[i]);
    out[i] = __floats2bfloat162_rn(silu_mul(g.x, u.x), silu_mul(g.y, u.y));
  }
}

}  // namespace

void swiglu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  const bool aligned = ((reinterpret_cast<std::uintptr_t>(gate) | reinterpret_cast<std::uintptr_t>(up) |
                         reinterpret_cast<std::uintptr_t>(out)) % 4) == 0;
  if (in_t == Elem::BF16 && out_t == Elem::BF16 && n % 2 == 0 && aligned) {
    swiglu_bf16x2_kernel<<<grid_for(n / 2), 256, 0, stream>>>(static_cast<const __nv_bfloat162*>(gate),
                                                              static_cast<const __nv_bfloat162*>(up),
                                                              static_cast<__nv_bfloat162*>(out), n / 2);
  } else {
    dispatch(in_t, [&](auto a) {
      dispatch(out_t, [&](auto b) {
        using A = decltype(a);
        using B = decltype(b);
        swiglu_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<const A*>(gate), static_cast<const A*>(up), static_cast<B*>(out), n);
      });
    });
  }
  check_last_launch("swiglu");
}

}  // namespace lmscope::cuda
