// Fused LM-head scoring, the reduction half: after cuBLAS writes one vocabulary chunk of logits [T, n], each row's
// max (first index on ties), sum of exponentials and target logit are folded into a running per-row state, so
// the full [T, V] logits never exist. Launch: one block of 256 threads per row. Traffic: the chunk is read once
// (each thread keeps an online max / rescaled sum / first argmax over its columns, then a warp-shuffle and
// shared-memory merge); the state is a few bytes per row.
#include <cfloat>
#include <cmath>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 256;

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

__global__ void update_kernel(const float* logits, std::int64_t ld, std::int64_t n, std::int64_t c0,
                              const std::int32_t* targets, VocabScoreState s, float softcap) {
  const std::int64_t t = blockIdx.x;
  const float* r = logits + t * ld;
  // One pass: each thread folds its strided columns in ascending order with an online rescale.
  Stat st{-INFINITY, 0.f, -1};
  for (std::int64_t v = threadIdx.x; v < n; v += kThreads) {
    const float x = capped(r[v], softcap);
    if (st.i < 0) {
      st = Stat{x, 1.f, v};
    } else if (x > st.m) {
      st.s = st.s * expf(st.m - x) + 1.f;
      st.m = x;
      st.i = v;
    } else {
      st.s += expf(x - st.m);
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    Stat other;
    other.m = __shfl_xor_sync(0xffffffff, st.m, o);
    other.s = __shfl_xor_sync(0xffffffff, st.s, o);
    other.i = __shfl_xor_sync(0xffffffff, st.i, o);
    st = merge(st, other);
  }
  __shared__ Stat warp_stat[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_stat[threadIdx.x / 32] = st;
  __syncthreads();
  if (threadIdx.x == 0) {
    Stat c = warp_stat[0];
    for (int w = 1; w < kThreads / 32; ++w) c = merge(c, warp_stat[w]);
    const double m = s.max[t], cm = c.m, csum = c.s;
    if (cm > m) {
      s.sum[t] = s.sum[t] * exp(m - cm) + csum;
      s.max[t] = cm;
      s.argmax[t] = c0 + c.i;
    } else {
      s.sum[t] += csum * exp(cm - m);
    }
    const std::int32_t target = targets[t];
    if (target >= c0 && target < c0 + n) s.target_logit[t] = capped(r[target - c0], softcap);
  }
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
  update_kernel<<<static_cast<unsigned>(T), kThreads, 0, stream>>>(logits, ld, n, c0, targets, s, softcap);
  check_last_launch("vocab_scores_update");
}

}  // namespace lmscope::cuda
