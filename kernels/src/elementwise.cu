// Elementwise arithmetic on float32 / bf16 tensors: type conversion, residual add, bias add (optionally followed by
// SiLU in the same pass). Launch: grid-stride loops, 256 threads per block. Traffic: one read per input, one write
// per output; memory-bound.
#include "activation.cuh"
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

// Rows on grid y, columns on x: no 64-bit modulo per element (measured: Mamba2-1.3B's add_bias_silu 99 → 95 µs per call).
template <typename A, bool kSilu>
__global__ void add_bias_kernel(A* out, const float* bias, std::int64_t T, int N) {
  for (std::int64_t r = blockIdx.y; r < T; r += gridDim.y) {
    A* row = out + r * N;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < N; c += gridDim.x * blockDim.x) {
      const float v = ld(row + c) + bias[c];
      st(row + c, kSilu ? activation_value(v, 0) : v);
    }
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

void add_bias(void* out, Elem out_t, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream, bool silu) {
  if (T * N == 0) return;
  if (N > (1 << 30)) throw std::runtime_error("add_bias: more than 2^30 columns");
  const dim3 grid(static_cast<unsigned>(std::min<std::int64_t>((N + 255) / 256, 64)), static_cast<unsigned>(std::min<std::int64_t>(T, 65535)));
  dispatch(out_t, [&](auto a) {
    using A = decltype(a);
    if (silu)
      add_bias_kernel<A, true><<<grid, 256, 0, stream>>>(static_cast<A*>(out), bias, T, static_cast<int>(N));
    else
      add_bias_kernel<A, false><<<grid, 256, 0, stream>>>(static_cast<A*>(out), bias, T, static_cast<int>(N));
  });
  check_last_launch("add_bias");
}

}  // namespace lmscope::cuda
