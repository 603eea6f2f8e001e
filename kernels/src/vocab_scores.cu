// Fused LM-head scoring, the reduction half: after cuBLAS writes one vocabulary chunk of logits [T, n], each row's
// max (first index on ties), sum of exponentials and target logit are folded into a running per-row state, so
// the full [T, V] logits never exist. Launch: a warp per row, eight rows per block. The chunk is read once, four
// floats per lane per load (Llama 3's 128K vocabulary at 16K rows is 8.4 GB of logits per pass: this kernel is
// bound by DRAM bandwidth); each lane folds its columns in ascending order with an online rescale per four values,
// the lanes merge by shuffles, and lane 0 updates the row's state.
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;  // a warp per row

__global__ void init_kernel(VocabScoreState s, std::int64_t T) {
  const std::int64_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= T) return;
  s.max[t] = -INFINITY;
  s.sum[t] = 0.0;
  s.argmax[t] = -1;
  s.target_logit[t] = NAN;
}

// Running (max, sum of exp(x - max), first argmax) of a set of logits; merge() combines two disjoint sets.
struct Stat {
  float m;
  float s;
  long long i;
};

__device__ __forceinline__ Stat merge(Stat a, Stat b) {
  if (b.i < 0) return a;
  if (a.i < 0) return b;
  if (b.m > a.m || (b.m == a.m && b.i < a.i)) {
    const Stat t = a;
    a = b;
    b = t;
  }
  // a holds the max (first index on ties)
  return Stat{a.m, a.s + b.s * expf(b.m - a.m), a.i};
}

// The logit as scored: soft-capped when softcap > 0 (Gemma 2), as it is.
__device__ __forceinline__ float capped(float z, float softcap) { return softcap > 0.f ? softcap * tanhf(z / softcap) : z; }

// Folds x (the logits of columns v..v+3, −inf past the chunk's end) into st: the first index wins a tie.
__device__ __forceinline__ void fold4(Stat& st, const float (&x)[4], std::int64_t v) {
  float m = x[0];
  int j = 0;
#pragma unroll
  for (int k = 1; k < 4; ++k)
    if (x[k] > m) {
      m = x[k];
      j = k;
    }
  if (m == -INFINITY && st.i >= 0) return;  // nothing (past the end) or nothing that can matter
  if (st.i < 0 || m > st.m) {
    st.s = st.i < 0 ? 0.f : st.s * expf(st.m - m);
    st.m = m;
    st.i = v + j;
  }
#pragma unroll
  for (int k = 0; k < 4; ++k) st.s += expf(x[k] - st.m);
}

__global__ void __launch_bounds__(kThreads) update_kernel(const float* logits, std::int64_t ld, std::int64_t T,
                                                          std::int64_t n, std::int64_t c0, const std::int32_t* targets,
                                                          VocabScoreState s, float softcap) {
  const int lane = threadIdx.x % 32;
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (t >= T) return;
  const float* r = logits + t * ld;
  Stat st{-INFINITY, 0.f, -1};
  const bool vec = ld % 4 == 0 && reinterpret_cast<std::uintptr_t>(logits) % 16 == 0;
#pragma unroll 4  // loads of later steps in flight while earlier ones are folded
  for (std::int64_t v = 4 * lane; v < n; v += 128) {
    float x[4];
    if (vec && v + 4 <= n) {
      const float4 f = *reinterpret_cast<const float4*>(r + v);
      x[0] = f.x, x[1] = f.y, x[2] = f.z, x[3] = f.w;
    } else {
#pragma unroll
      for (int k = 0; k < 4; ++k) x[k] = v + k < n ? r[v + k] : -INFINITY;
    }
    if (softcap > 0.f) {
#pragma unroll
      for (int k = 0; k < 4; ++k) x[k] = v + k < n ? capped(x[k], softcap) : -INFINITY;
    }
    fold4(st, x, v);
  }
  for (int o = 16; o > 0; o >>= 1) {
    Stat other;
    other.m = __shfl_xor_sync(0xffffffff, st.m, o);
    other.s = __shfl_xor_sync(0xffffffff, st.s, o);
    other.i = __shfl_xor_sync(0xffffffff, st.i, o);
    st = merge(st, other);
  }
  if (lane != 0) return;
  const double m = s.max[t], cm = st.m, csum = st.s;
  if (cm > m) {
    s.sum[t] = s.sum[t] * exp(m - cm) + csum;
    s.max[t] = cm;
    s.argmax[t] = c0 + st.i;
  } else {
    s.sum[t] += csum * exp(cm - m);
  }
  const std::int32_t target = targets[t];
  if (target >= c0 && target < c0 + n) s.target_logit[t] = capped(r[target - c0], softcap);
}

}  // namespace

void vocab_scores_init(const VocabScoreState& s, std::int64_t T, cudaStream_t stream) {
  if (T == 0) return;
  init_kernel<<<static_cast<unsigned>((T + 255) / 256), 256, 0, stream>>>(s, T);
  check_last_launch("vocab_scores_init");
}

void vocab_scores_update(const float* logits, std::int64_t ld, std::int64_t T, std::int64_t n, std::int64_t c0,
                         const std::int32_t* targets, const VocabScoreState& s, float softcap, cudaStream_t stream) {
  if (T == 0 || n == 0) return;
  update_kernel<<<static_cast<unsigned>((T + kRowsPerBlock - 1) / kRowsPerBlock), kThreads, 0, stream>>>(logits, ld, T, n, c0,
                                                                                                  targets, s, softcap);
  check_last_launch("vocab_scores_update");
}

}  // namespace lmscope::cuda
