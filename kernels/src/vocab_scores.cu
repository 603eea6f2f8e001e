// Fused LM-head scoring, the reduction half: after cuBLAS writes one vocabulary chunk of logits [T, n], each row's
// max (first index on ties), sum of exponentials and target logit are folded into a running per-row state, so
// the full [T, V] logits never exist. Launch: one block of 256 threads per row. Traffic: the chunk is read twice
// (max pass, then exp-sum pass, the second mostly from L2); the state is a few bytes per row.
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

__global__ void update_kernel(const float* logits, std::int64_t ld, std::int64_t n, std::int64_t c0,
                              const std::int32_t* targets, VocabScoreState s) {
  const std::int64_t t = blockIdx.x;
  const float* r = logits + t * ld;
  __shared__ float best_v[kThreads];
  __shared__ long long best_i[kThreads];
  __shared__ float sums[kThreads];
  float bv = -INFINITY;
  long long bi = -1;
  for (std::int64_t v = threadIdx.x; v < n; v += kThreads)
    if (r[v] > bv) {  // strided ascending: the first maximum of this thread's columns
      bv = r[v];
      bi = v;
    }
  best_v[threadIdx.x] = bv;
  best_i[threadIdx.x] = bi;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      const float ov = best_v[threadIdx.x + stride];
      const long long oi = best_i[threadIdx.x + stride];
      const float mv = best_v[threadIdx.x];
      const long long mi = best_i[threadIdx.x];
      if (oi >= 0 && (mi < 0 || ov > mv || (ov == mv && oi < mi))) {
        best_v[threadIdx.x] = ov;
        best_i[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  const float cmax = best_v[0];
  float part = 0.f;
  for (std::int64_t v = threadIdx.x; v < n; v += kThreads) part += expf(r[v] - cmax);
  sums[threadIdx.x] = part;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) sums[threadIdx.x] += sums[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double m = s.max[t], cm = cmax, csum = sums[0];
    if (cm > m) {
      s.sum[t] = s.sum[t] * exp(m - cm) + csum;
      s.max[t] = cm;
      s.argmax[t] = c0 + best_i[0];
    } else {
      s.sum[t] += csum * exp(cm - m);
    }
    const std::int32_t target = targets[t];
    if (target >= c0 && target < c0 + n) s.target_logit[t] = r[target - c0];
  }
}

}  // namespace

void vocab_scores_init(const VocabScoreState& s, std::int64_t T, cudaStream_t stream) {
  if (T == 0) return;
  init_kernel<<<static_cast<unsigned>((T + 255) / 256), 256, 0, stream>>>(s, T);
  check_last_launch("vocab_scores_init");
}

void vocab_scores_update(const float* logits, std::int64_t ld, std::int64_t T, std::int64_t n, std::int64_t c0,
                         const std::int32_t* targets, const VocabScoreState& s, cudaStream_t stream) {
  if (T == 0 || n == 0) return;
  update_kernel<<<static_cast<unsigned>(T), kThreads, 0, stream>>>(logits, ld, n, c0, targets, s);
  check_last_launch("vocab_scores_update");
}

}  // namespace lmscope::cuda
