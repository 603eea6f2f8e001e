// Gated linear units: out = f(gate) · up (SwiGLU with silu, GeGLU with gelu, relu² for BitNet), float32 or bf16.
// Launch: grid-stride loops, 256 threads per block; on bf16 each step moves eight elements in 16-byte accesses when
// the count and alignment allow, else two (bf16x2) with an even count and 4-byte aligned pointers. Traffic: two reads and one write per element; memory-bound.
#include <cstdint>

#include "activation.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <int F, typename A, typename B>
__global__ void glu_kernel(const A* gate, const A* up, B* out, std::int64_t n) {
  LMSCOPE_GRID_STRIDE(i, n) st(out + i, activation_value(ld(gate + i), F) * ld(up + i));
}

template <int F>
__global__ void glu_bf16x2_kernel(const __nv_bfloat162* gate, const __nv_bfloat162* up, __nv_bfloat162* out, std::int64_t n2) {
  LMSCOPE_GRID_STRIDE(i, n2) {
    const float2 g = __bfloat1622float2(gate[i]), u = __bfloat1622float2(up[i]);
    out[i] = __floats2bfloat162_rn(activation_value(g.x, F) * u.x, activation_value(g.y, F) * u.y);
  }
}

// Eight elements per step in 16-byte accesses (a count divisible by 8, 16-byte aligned pointers).
template <int F>
__global__ void glu_bf16x8_kernel(const bf16* gate, const bf16* up, bf16* out, std::int64_t n8) {
  LMSCOPE_GRID_STRIDE(i, n8) {
    float g[8], u[8];
    load8(gate + 8 * i, g);
    load8(up + 8 * i, u);
#pragma unroll
    for (int k = 0; k < 8; ++k) g[k] = activation_value(g[k], F) * u[k];
    store8(out + 8 * i, g);
  }
}

template <int F>
void launch_glu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, cudaStream_t stream) {
  const bool aligned = ((reinterpret_cast<std::uintptr_t>(gate) | reinterpret_cast<std::uintptr_t>(up) |
                         reinterpret_cast<std::uintptr_t>(out)) % 4) == 0;
  if (in_t == Elem::BF16 && out_t == Elem::BF16 && n % 8 == 0 && aligned16(gate) && aligned16(up) && aligned16(out)) {
    glu_bf16x8_kernel<F><<<grid_for(n / 8), 256, 0, stream>>>(static_cast<const bf16*>(gate), static_cast<const bf16*>(up),
                                                              static_cast<bf16*>(out), n / 8);
    return;
  }
  if (in_t == Elem::BF16 && out_t == Elem::BF16 && n % 2 == 0 && aligned) {
    glu_bf16x2_kernel<F><<<grid_for(n / 2), 256, 0, stream>>>(static_cast<const __nv_bfloat162*>(gate),
                                                              static_cast<const __nv_bfloat162*>(up),
                                                              static_cast<__nv_bfloat162*>(out), n / 2);
    return;
  }
  dispatch(in_t, [&](auto a) {
    dispatch(out_t, [&](auto b) {
      using A = decltype(a);
      using B = decltype(b);
      glu_kernel<F><<<grid_for(n), 256, 0, stream>>>(static_cast<const A*>(gate), static_cast<const A*>(up), static_cast<B*>(out), n);
    });
  });
}

}  // namespace

void glu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, int f, cudaStream_t stream) {
  if (n == 0) return;
  // The activation is a template parameter: the kernels the models use most stay branch-free.
  switch (f) {
    case 0: launch_glu<0>(gate, up, in_t, out, out_t, n, stream); break;
    case 6: launch_glu<6>(gate, up, in_t, out, out_t, n, stream); break;
    case 7: launch_glu<7>(gate, up, in_t, out, out_t, n, stream); break;
    case 8: launch_glu<8>(gate, up, in_t, out, out_t, n, stream); break;
    default: throw std::runtime_error("glu: activation code " + std::to_string(f) + " has no gated kernel");
  }
  check_last_launch("glu");
}

}  // namespace lmscope::cuda
