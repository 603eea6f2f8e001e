// Two models' logits rows compared on the device (the compare task): per row, KL(base ‖ model), whether both
// argmaxes agree (first index on ties) and both NLLs of the target — the definitions of
// engine/src/backend/logits_comparison.cpp, whose host loop is the reference in the tests. One block of 256
// threads per row, two passes over each row (max/argmax, then the exponential sums, accumulated in double), so a
// [rows × vocab] block is read twice and only 4 numbers per row leave the device.
#include <cfloat>
#include <cmath>

#include "block_reduce.cuh"
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 256;

struct MaxAt {
  float v;
  long long i;
};

// The larger value; the smaller index on ties (and over a missing one, i < 0).
__device__ __forceinline__ MaxAt better(MaxAt a, MaxAt b) {
  if (b.i < 0) return a;
  if (a.i < 0) return b;
  return (b.v > a.v || (b.v == a.v && b.i < a.i)) ? b : a;
}

__device__ MaxAt block_max(MaxAt x) {
  __shared__ float vs[kThreads / 32];
  __shared__ long long is[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) {
    MaxAt other{__shfl_xor_sync(0xffffffff, x.v, o), __shfl_xor_sync(0xffffffff, x.i, o)};
    x = better(x, other);
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) {
    vs[threadIdx.x / 32] = x.v;
    is[threadIdx.x / 32] = x.i;
  }
  __syncthreads();
  MaxAt r{vs[0], is[0]};
  for (int w = 1; w < kThreads / 32; ++w) r = better(r, MaxAt{vs[w], is[w]});
  return r;
}

__device__ double block_sum_double(double v) {
  __shared__ double sums[kThreads / 32];
  v = warp_sum(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) sums[threadIdx.x / 32] = v;
  __syncthreads();
  double r = 0;
  for (int w = 0; w < kThreads / 32; ++w) r += sums[w];
  return r;
}

__global__ void compare_kernel(const float* base, const float* model, std::int64_t V, const std::int32_t* targets,
                               LogitsComparisonOut out) {
  const std::int64_t r = blockIdx.x;
  const float* b = base + r * V;
  const float* m = model + r * V;
  MaxAt xb{-INFINITY, -1}, xm{-INFINITY, -1};
  for (std::int64_t v = threadIdx.x; v < V; v += kThreads) {
    xb = better(xb, MaxAt{b[v], v});
    xm = better(xm, MaxAt{m[v], v});
  }
  xb = block_max(xb);
  xm = block_max(xm);
  double sb = 0, sm = 0, cross = 0;
  for (std::int64_t v = threadIdx.x; v < V; v += kThreads) {
    const float bv = b[v], mv = m[v];
    const double eb = expf(bv - xb.v);
    sb += eb;
    sm += expf(mv - xm.v);
    cross += eb * (static_cast<double>(bv) - static_cast<double>(mv));
  }
  sb = block_sum_double(sb);
  sm = block_sum_double(sm);
  cross = block_sum_double(cross);
  if (threadIdx.x != 0) return;
  const double lb = xb.v + log(sb), lm = xm.v + log(sm);
  out.kl[r] = fmax(0.0, cross / sb - (lb - lm));
  out.same_top[r] = xb.i == xm.i;
  const std::int32_t t = targets[r];
  out.nll[r] = t >= 0 && t < V ? lm - m[t] : 0.0;
  out.base_nll[r] = t >= 0 && t < V ? lb - b[t] : 0.0;
}

}  // namespace

void compare_logits(const float* base, const float* model, std::int64_t rows, std::int64_t vocab,
                    const std::int32_t* targets, const LogitsComparisonOut& out, cudaStream_t stream) {
  if (rows <= 0) return;
  compare_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(base, model, vocab, targets, out);
}

}  // namespace lmscope::cuda
