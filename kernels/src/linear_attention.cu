// The small ops around the delta rule (DeltaNet, Gated DeltaNet) and BitNet's activation quantiser. The batched
// convolution, the head normalisations and the gated RMSNorm read and write float32 or bf16 (fp32 arithmetic); the
// others are float32.
// Launch shapes and traffic, per kernel:
// - activate / scale / fill: grid-stride elementwise, 256 threads; one read and one write per element.
// - causal_conv1d: one thread per (t, c) output, K taps read from x (or the carried state) and w; the new state
//   (last K-1 rows of [state; x]) is gathered into a separate buffer by a second launch so no launch reads what it
//   writes. Traffic: K reads per output, mostly L1/L2 hits between neighbouring t.
// - l2 / sum normalisation of heads: one warp per head group (warp-stride over head_dim), two passes over the
//   group (the second from L1).
// - decay_gate: elementwise over [T, H].
// - rmsnorm_gated: one warp per row up to 2048 wide, else one block of 256 threads per row: sum of squares, then
//   x·inv·w·silu(gate).
// - quantize_activations_int8: one block per row: max |x|, then round/clamp/divide as fla's kernel does.
#include <climits>
#include <cmath>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

#define LMSCOPE_GRID_STRIDE(i, n) \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

template <typename T>
__global__ void activate_kernel(T* x, std::int64_t n, int f) {
  LMSCOPE_GRID_STRIDE(i, n) {
    const float v = ld(x + i);
    float r;
    switch (f) {
      case 0: r = v / (1.0f + expf(-v)); break;           // silu
      case 1: r = 1.0f / (1.0f + expf(-v)); break;        // sigmoid
      case 2: r = fmaxf(v, 0.0f); break;                  // relu
      case 3: r = v > 0.0f ? v + 1.0f : expf(v); break;   // elu + 1
      case 4: r = v > 20.0f ? v : log1pf(expf(v)); break;  // softplus, torch's threshold
      default: r = fminf(v, 0.0f) - log1pf(expf(-fabsf(v))); break;  // log-sigmoid
    }
    st(x + i, r);
  }
}

template <typename T>
__global__ void scale_kernel(T* x, std::int64_t n, float s) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, ld(x + i) * s);
}

template <typename T>
__global__ void fill_kernel(T* x, std::int64_t n, float value) {
  LMSCOPE_GRID_STRIDE(i, n) st(x + i, value);
}

__global__ void conv1d_kernel(const float* x, const float* w, const float* state, std::int64_t T, std::int64_t C, std::int64_t K,
                              bool silu, float* out) {
  LMSCOPE_GRID_STRIDE(idx, T * C) {
    const std::int64_t t = idx / C, c = idx % C;
    float acc = 0.f;
    for (std::int64_t j = 0; j < K; ++j) {
      const std::int64_t r = t + j - (K - 1);  // negative rows come from the carried state
      const float src = r >= 0 ? x[r * C + c] : state[(K - 1 + r) * C + c];
      acc += w[c * K + j] * src;
    }
    out[idx] = silu ? acc / (1.0f + expf(-acc)) : acc;
  }
}

// `batch` sequences of T rows, each from zero history. One thread per channel walks kConvRows consecutive rows with
// the last K-1 inputs in registers, so every input is read once (coalesced across the warp's channels) instead of
// K times; the taps live in registers too. K = 2, 3, 4 (fla's conv sizes); the generic kernel below takes the rest.
constexpr int kConvRows = 16;

template <int K, typename X, typename O>
__global__ void conv1d_batch_kernel(const X* x, const float* w, int T, std::int64_t N, int C, bool silu, O* out) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kConvRows;
  float taps[K], hist[K > 1 ? K - 1 : 1];  // hist[K-2] is the previous row's input
#pragma unroll
  for (int j = 0; j < K; ++j) taps[j] = w[c * K + j];
  int t = static_cast<int>(r0 % T);
#pragma unroll
  for (int j = 0; j < K - 1; ++j) {
    const int back = K - 1 - j;  // hist[j] holds row r0 - back
    hist[j] = back <= t ? ld(x + (r0 - back) * C + c) : 0.f;
  }
  for (std::int64_t r = r0; r < r0 + kConvRows && r < N; ++r, ++t) {
    if (t == T) {  // a new sequence starts: no history
      t = 0;
#pragma unroll
      for (int j = 0; j < K - 1; ++j) hist[j] = 0.f;
    }
    const float cur = ld(x + r * C + c);
    float acc = taps[K - 1] * cur;
#pragma unroll
    for (int j = 0; j < K - 1; ++j) acc += taps[j] * hist[j];
#pragma unroll
    for (int j = 0; j + 1 < K - 1; ++j) hist[j] = hist[j + 1];
    if (K > 1) hist[K - 2] = cur;
    st(out + r * C + c, silu ? acc / (1.0f + expf(-acc)) : acc);
  }
}

// Any K: one output per thread.
template <typename X, typename O>
__global__ void conv1d_batch_generic_kernel(const X* x, const float* w, std::int64_t T, std::int64_t N, std::int64_t C,
                                            std::int64_t K, bool silu, O* out) {
  LMSCOPE_GRID_STRIDE(idx, N * C) {
    const std::int64_t row = idx / C, c = idx % C, t = row % T;
    float acc = 0.f;
    for (std::int64_t j = 0; j < K; ++j) {
      const std::int64_t back = K - 1 - j;  // tap j reads row t - back of the same sequence
      if (back <= t) acc += w[c * K + j] * ld(x + (row - back) * C + c);
    }
    st(out + idx, silu ? acc / (1.0f + expf(-acc)) : acc);
  }
}

__global__ void conv1d_state_kernel(const float* x, const float* state, std::int64_t T, std::int64_t C, std::int64_t K, float* next) {
  LMSCOPE_GRID_STRIDE(idx, (K - 1) * C) {
    const std::int64_t r = idx / C, c = idx % C;
    const std::int64_t src = T + r;  // row of [state; x]
    next[idx] = src >= K - 1 ? x[(src - (K - 1)) * C + c] : state[src * C + c];
  }
}

// mode 0: x / sqrt(Σx² + eps); mode 1: x / Σx
template <typename T>
__global__ void normalize_heads_kernel(T* x, std::int64_t groups, std::int64_t head_dim, float eps, int mode) {
  const std::int64_t warp = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= groups) return;
  T* h = x + warp * head_dim;
  float acc = 0.f;
  for (std::int64_t i = lane; i < head_dim; i += 32) {
    const float v = ld(h + i);
    acc += mode == 0 ? v * v : v;
  }
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffff, acc, o);
  if (mode == 0) {
    const float inv = 1.0f / sqrtf(acc + eps);
    for (std::int64_t i = lane; i < head_dim; i += 32) st(h + i, ld(h + i) * inv);
  } else {
    for (std::int64_t i = lane; i < head_dim; i += 32) st(h + i, ld(h + i) / acc);
  }
}

__global__ void decay_gate_kernel(float* a, const float* A_log, const float* dt_bias, std::int64_t n, std::int64_t H) {
  LMSCOPE_GRID_STRIDE(i, n) {
    const std::int64_t h = i % H;
    const float z = a[i] + dt_bias[h];
    const float softplus = z > 20.0f ? z : log1pf(expf(z));
    a[i] = -expf(A_log[h]) * softplus;
  }
}

__device__ float block_sum_256(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) r += scratch[w];
  __syncthreads();
  return r;
}

__device__ float block_max_256(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = scratch[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) r = fmaxf(r, scratch[w]);
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

__global__ void quantize_int8_kernel(float* x, std::int64_t C) {
  __shared__ float scratch[32];
  float* row = x + blockIdx.x * C;
  float mx = 0.f;
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, fabsf(row[c]));
  mx = block_max_256(mx, scratch);
  const float s = 127.0f / fmaxf(mx, 1e-5f);
  for (std::int64_t c = threadIdx.x; c < C; c += blockDim.x) row[c] = fminf(fmaxf(roundf(row[c] * s), -128.0f), 127.0f) / s;
}

}  // namespace

void activate(void* x, Elem t, std::int64_t n, int f, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    activate_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, f);
  });
  check_last_launch("activate");
}

void scale(void* x, Elem t, std::int64_t n, float s, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    scale_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, s);
  });
  check_last_launch("scale");
}

void fill(void* x, Elem t, std::int64_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  dispatch(t, [&](auto a) {
    using A = decltype(a);
    fill_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<A*>(x), n, value);
  });
  check_last_launch("fill");
}

void causal_conv1d_f32(const float* x, const float* w, const float* state, std::int64_t T, std::int64_t C, std::int64_t K, bool silu,
                       float* out, float* next_state, cudaStream_t stream) {
  if (T * C > 0) conv1d_kernel<<<grid_for(T * C), 256, 0, stream>>>(x, w, state, T, C, K, silu, out);
  if ((K - 1) * C > 0) conv1d_state_kernel<<<grid_for((K - 1) * C), 256, 0, stream>>>(x, state, T, C, K, next_state);
  check_last_launch("causal_conv1d");
}

void causal_conv1d_batch(const void* x, Elem x_t, const float* w, std::int64_t T, std::int64_t batch, std::int64_t C,
                         std::int64_t K, bool silu, void* out, Elem out_t, cudaStream_t stream) {
  const std::int64_t N = T * batch;
  if (N * C == 0) return;
  const dim3 grid(static_cast<unsigned>((C + 127) / 128), static_cast<unsigned>((N + kConvRows - 1) / kConvRows));
  const bool fits = T <= INT32_MAX && C <= INT32_MAX && grid.y <= 65535u;
  const int t = static_cast<int>(T), c = static_cast<int>(C);
  dispatch(x_t, [&](auto xe) {
    dispatch(out_t, [&](auto oe) {
      using X = decltype(xe);
      using O = decltype(oe);
      const X* xp = static_cast<const X*>(x);
      O* op = static_cast<O*>(out);
      if (fits && K == 4)
        conv1d_batch_kernel<4><<<grid, 128, 0, stream>>>(xp, w, t, N, c, silu, op);
      else if (fits && K == 3)
        conv1d_batch_kernel<3><<<grid, 128, 0, stream>>>(xp, w, t, N, c, silu, op);
      else if (fits && K == 2)
        conv1d_batch_kernel<2><<<grid, 128, 0, stream>>>(xp, w, t, N, c, silu, op);
      else
        conv1d_batch_generic_kernel<<<grid_for(N * C), 256, 0, stream>>>(xp, w, T, N, C, K, silu, op);
    });
  });
  check_last_launch("causal_conv1d_batch");
}

void normalize_heads(void* x, Elem t, std::int64_t n, std::int64_t head_dim, float eps, bool l2, cudaStream_t stream) {
  const std::int64_t groups = n / head_dim;
  if (groups == 0) return;
  dispatch(t, [&](auto e) {
    using T = decltype(e);
    normalize_heads_kernel<<<static_cast<unsigned>((groups + 7) / 8), 256, 0, stream>>>(static_cast<T*>(x), groups, head_dim,
                                                                                      eps, l2 ? 0 : 1);
  });
  check_last_launch("normalize_heads");
}

void decay_gate_f32(float* a, const float* A_log, const float* dt_bias, std::int64_t T, std::int64_t H, cudaStream_t stream) {
  if (T * H == 0) return;
  decay_gate_kernel<<<grid_for(T * H), 256, 0, stream>>>(a, A_log, dt_bias, T * H, H);
  check_last_launch("decay_gate");
}

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

void quantize_activations_int8_f32(float* x, std::int64_t R, std::int64_t C, cudaStream_t stream) {
  if (R == 0) return;
  quantize_int8_kernel<<<static_cast<unsigned>(R), 256, 0, stream>>>(x, C);
  check_last_launch("quantize_activations_int8");
}

}  // namespace lmscope::cuda
