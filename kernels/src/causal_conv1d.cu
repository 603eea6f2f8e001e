// The short causal depthwise convolution of DeltaNet / Gated DeltaNet (and the SSM families), optionally followed
// by SiLU.
// - causal_conv1d (one sequence continuing a carried state, float32): one thread per (t, c) output, K taps read from
//   x (or the state) and w; the new state (last K-1 rows of [state; x]) is gathered into a separate buffer by a
//   second launch so no launch reads what it writes. Traffic: K reads per output, mostly L1/L2 hits.
// - causal_conv1d_batch (batch sequences from zero history, float32 or bf16 in and out, with the Mamba mixers'
//   bias before the SiLU): one thread per channel walking 16 rows with the last K-1 inputs in registers (K = 2..4),
//   so each input is read once (eight channels per thread in 16-byte vectors for bf16); a one-output-per-thread
//   kernel for other K.
// - causal_conv1d_step_batch (a decoding step of n sequences, one row each): one thread per (sequence, channel)
//   reads its K-1 history values (float32) and the new input, writes the output and shifts the history in place
//   (a thread owns its channel's history, so nothing else reads what it writes).
#include <climits>
#include <type_traits>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

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
__global__ void conv1d_batch_kernel(const X* x, const float* w, const float* bias, int T, std::int64_t N, int C, bool silu,
                                    O* out) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kConvRows;
  const float b = bias ? bias[c] : 0.f;
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
    float acc = b + taps[K - 1] * cur;
#pragma unroll
    for (int j = 0; j < K - 1; ++j) acc += taps[j] * hist[j];
#pragma unroll
    for (int j = 0; j + 1 < K - 1; ++j) hist[j] = hist[j + 1];
    if (K > 1) hist[K - 2] = cur;
    st(out + r * C + c, silu ? acc / (1.0f + expf(-acc)) : acc);
  }
}

// The same for bf16 in and out with channels a multiple of 8 on 16-byte-aligned tensors: 8 channels per thread, each
// row's 8 inputs and outputs moved as one 16-byte load or store (a warp reads 512 contiguous bytes of a row where
// the kernel above reads 64 with 2-byte loads). A thread loads all its rows first (its kConvRows and the K − 1 before
// them: 19 loads in flight instead of one), and the SiLU uses the fast exponential and division — its result is
// rounded to bf16, far coarser than their error. Measured on the H200 (16384 rows × 1536 channels, K 4, SiLU;
// tools/device/kernel-ab): 167 µs before, 58 µs now, a plain copy of the same bytes 28 µs. The accurate
// expf and IEEE division alone cost 100 µs of the 167: this kernel was bound by its arithmetic, not by memory.
constexpr int kConvVec = 8;

template <int K>
__global__ void __launch_bounds__(128) conv1d_batch_vec_kernel(const bf16* __restrict__ x, const float* __restrict__ w,
                                                               const float* __restrict__ bias, int T, std::int64_t N, int C,
                                                               bool silu, bf16* __restrict__ out) {
  constexpr int H = K - 1;  // rows of history before the first output row
  const int c0 = (blockIdx.x * blockDim.x + threadIdx.x) * kConvVec;
  if (c0 >= C) return;
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kConvRows;
  uint4 in[H + kConvRows];  // rows r0 − H .. r0 + kConvRows − 1 (zeros outside [0, N))
#pragma unroll
  for (int j = 0; j < H + kConvRows; ++j) {
    const std::int64_t r = r0 - H + j;
    in[j] = r >= 0 && r < N ? *reinterpret_cast<const uint4*>(x + r * C + c0) : make_uint4(0, 0, 0, 0);
  }
  float taps[K][kConvVec], b[kConvVec], hist[H][kConvVec];  // hist[H − 1] is the previous row's input
#pragma unroll
  for (int i = 0; i < kConvVec; ++i) {
    b[i] = bias ? bias[c0 + i] : 0.f;
#pragma unroll
    for (int j = 0; j < K; ++j) taps[j][i] = w[(c0 + i) * K + j];
  }
  int t = static_cast<int>(r0 % T);  // the row's position in its sequence: inputs before its start are zero
#pragma unroll
  for (int j = 0; j < H; ++j) {
    unpack8(in[j], hist[j]);
    if (H - j > t)
#pragma unroll
      for (int i = 0; i < kConvVec; ++i) hist[j][i] = 0.f;
  }
#pragma unroll
  for (int r = 0; r < kConvRows; ++r, ++t) {
    if (r0 + r >= N) break;
    if (t == T) {  // a new sequence starts: no history
      t = 0;
#pragma unroll
      for (int j = 0; j < H; ++j)
#pragma unroll
        for (int i = 0; i < kConvVec; ++i) hist[j][i] = 0.f;
    }
    float cur[kConvVec], o[kConvVec];
    unpack8(in[H + r], cur);
#pragma unroll
    for (int i = 0; i < kConvVec; ++i) {
      float acc = b[i] + taps[K - 1][i] * cur[i];
#pragma unroll
      for (int j = 0; j < H; ++j) acc += taps[j][i] * hist[j][i];
#pragma unroll
      for (int j = 0; j + 1 < H; ++j) hist[j][i] = hist[j + 1][i];
      hist[H - 1][i] = cur[i];
      o[i] = silu ? __fdividef(acc, 1.0f + __expf(-acc)) : acc;
    }
    store8(out + (r0 + r) * C + c0, o);
  }
}

// Any K: one output per thread.
template <typename X, typename O>
__global__ void conv1d_batch_generic_kernel(const X* x, const float* w, const float* bias, std::int64_t T, std::int64_t N,
                                            std::int64_t C, std::int64_t K, bool silu, O* out) {
  LMSCOPE_GRID_STRIDE(idx, N * C) {
    const std::int64_t row = idx / C, c = idx % C, t = row % T;
    float acc = bias ? bias[c] : 0.f;
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

template <typename X, typename O>
__global__ void conv1d_step_kernel(const X* x, const float* w, int C, int K, bool silu, const DecodeStates states, O* out) {
  const int i = blockIdx.y, c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float* hist = states.p[i];
  const float xv = ld(x + static_cast<std::int64_t>(i) * C + c);
  float acc = 0.f;  // the taps in conv1d_kernel's order: history first, the new input last
  for (int j = 0; j < K - 1; ++j) acc += w[static_cast<std::int64_t>(c) * K + j] * hist[static_cast<std::int64_t>(j) * C + c];
  acc += w[static_cast<std::int64_t>(c) * K + K - 1] * xv;
  for (int j = 0; j + 1 < K - 1; ++j) hist[static_cast<std::int64_t>(j) * C + c] = hist[static_cast<std::int64_t>(j + 1) * C + c];
  if (K > 1) hist[static_cast<std::int64_t>(K - 2) * C + c] = xv;
  st(out + static_cast<std::int64_t>(i) * C + c, silu ? acc / (1.0f + expf(-acc)) : acc);
}

}  // namespace

void causal_conv1d_step_batch(const void* x, Elem x_t, const float* w, std::int64_t C, std::int64_t K, bool silu,
                              const DecodeStates& states, void* out, Elem out_t, cudaStream_t stream) {
  if (states.n < 1 || C == 0) return;
  if (states.n > kMaxDecodeRows || C > INT32_MAX || K < 1 || K > 64) throw std::runtime_error("causal_conv1d_step_batch: bad shape");
  const dim3 grid(static_cast<unsigned>((C + 127) / 128), static_cast<unsigned>(states.n));
  dispatch(x_t, [&](auto xe) {
    dispatch(out_t, [&](auto oe) {
      using X = decltype(xe);
      using O = decltype(oe);
      conv1d_step_kernel<<<grid, 128, 0, stream>>>(static_cast<const X*>(x), w, static_cast<int>(C), static_cast<int>(K), silu,
                                                   states, static_cast<O*>(out));
    });
  });
  check_last_launch("causal_conv1d_step_batch");
}

void causal_conv1d_f32(const float* x, const float* w, const float* state, std::int64_t T, std::int64_t C, std::int64_t K, bool silu,
                       float* out, float* next_state, cudaStream_t stream) {
  if (T * C > 0) conv1d_kernel<<<grid_for(T * C), 256, 0, stream>>>(x, w, state, T, C, K, silu, out);
  if ((K - 1) * C > 0) conv1d_state_kernel<<<grid_for((K - 1) * C), 256, 0, stream>>>(x, state, T, C, K, next_state);
  check_last_launch("causal_conv1d");
}

void causal_conv1d_batch(const void* x, Elem x_t, const float* w, const float* bias, std::int64_t T, std::int64_t batch,
                         std::int64_t C, std::int64_t K, bool silu, void* out, Elem out_t, cudaStream_t stream) {
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
      if constexpr (std::is_same_v<X, bf16> && std::is_same_v<O, bf16>)
        if (fits && K >= 2 && K <= 4 && C % kConvVec == 0 && aligned16(x) && aligned16(out)) {
          const dim3 vgrid(static_cast<unsigned>((C / kConvVec + 127) / 128), grid.y);
          if (K == 4) conv1d_batch_vec_kernel<4><<<vgrid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
          else if (K == 3) conv1d_batch_vec_kernel<3><<<vgrid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
          else conv1d_batch_vec_kernel<2><<<vgrid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
          return;
        }
      if (fits && K == 4)
        conv1d_batch_kernel<4><<<grid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
      else if (fits && K == 3)
        conv1d_batch_kernel<3><<<grid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
      else if (fits && K == 2)
        conv1d_batch_kernel<2><<<grid, 128, 0, stream>>>(xp, w, bias, t, N, c, silu, op);
      else
        conv1d_batch_generic_kernel<<<grid_for(N * C), 256, 0, stream>>>(xp, w, bias, T, N, C, K, silu, op);
    });
  });
  check_last_launch("causal_conv1d_batch");
}

}  // namespace lmscope::cuda
