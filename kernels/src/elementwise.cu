// Elementwise ops (type conversion, residual add, bias add, SwiGLU). Launch: grid-stride loops, 256 threads per
// block. Traffic: one read per input, one write per output; memory-bound. SwiGLU on bf16 moves two elements per
// thread step (4-byte accesses) when the count is even.
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename A, typename B>
__global__ void convert_kernel(const A* src, B* dst, std::int64_t n) {
  LMSCOPE_GRID_STRIDE(i, n) st(dst + i, ld(src + i));
}

template <typename A, typename B>
__global__ void add_kernel(A* acc, const B* x, std::int64_t n) {
  LMSCOPE_GRID_STRIDE(i, n) st(acc + i, ld(acc + i) + ld(x + i));
}

template <typename A>
__global__ void add_bias_kernel(A* out, const float* bias, std::int64_t n, std::int64_t N) {
  LMSCOPE_GRID_STRIDE(i, n) st(out + i, ld(out + i) + bias[i % N]);
}

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

void convert(const void* src, Elem src_t, void* dst, Elem dst_t, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(src_t, [&](auto a) {
    dispatch(dst_t, [&](auto b) {
      using A = decltype(a);
      using B = decltype(b);
      convert_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<const A*>(src), static_cast<B*>(dst), n);
    });
  });
  check_last_launch("convert");
}

void add(void* acc, Elem acc_t, const void* x, Elem x_t, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(acc_t, [&](auto a) {
    dispatch(x_t, [&](auto b) {
      using A = decltype(a);
      using B = decltype(b);
      add_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(acc), static_cast<const B*>(x), n);
    });
  });
  check_last_launch("add");
}

void add_bias(void* out, Elem out_t, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream) {
  if (T * N == 0) return;
  dispatch(out_t, [&](auto a) {
    using A = decltype(a);
    add_bias_kernel<<<grid_for(T * N), 256, 0, stream>>>(static_cast<A*>(out), bias, T * N, N);
  });
  check_last_launch("add_bias");
}

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
