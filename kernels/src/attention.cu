// Causal / sliding-window softmax attention, float32, with an online (streaming) softmax so no [Tq, Tk] score
// matrix exists in memory: any sequence length fits.
// Launch: one block of 128 threads per (query row, head). Keys stream through in tiles of 128: each thread scores
// one key (a head_dim dot product), the block updates the running max and sum, then each thread accumulates
// up to two output dimensions over the tile's values. Traffic: every key and value of the visible range is read
// once per query row and head (K/V re-reads hit L2 across neighbouring rows) — a correctness-first kernel; the
// tiled tensor-core version comes with the bf16 path.
#include <cfloat>
#include <stdexcept>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxHeadDim = 2 * kThreads;

__device__ float block_reduce(float v, float* scratch, bool is_max) {
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_xor_sync(0xffffffff, v, o);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float r = scratch[0];
  for (int w = 1; w < kThreads / 32; ++w) r = is_max ? fmaxf(r, scratch[w]) : r + scratch[w];
  __syncthreads();  // scratch is reused by the next reduction
  return r;
}

__global__ void attention_kernel(AttentionArgs a) {
  const std::int64_t i = blockIdx.x, h = blockIdx.y;
  const std::int64_t hd = a.head_dim, kvh = h / (a.num_heads / a.num_kv_heads);
  const std::int64_t q_stride = a.num_heads * hd, kv_stride = a.num_kv_heads * hd;
  const std::int64_t pos = a.q_pos0 + i;
  const std::int64_t first = a.window > 0 ? max(static_cast<std::int64_t>(0), pos - a.window + 1) : 0;

  __shared__ float q_sh[kMaxHeadDim];
  __shared__ float p_sh[kThreads];
  __shared__ float scratch[kThreads / 32];
  for (std::int64_t d = threadIdx.x; d < hd; d += kThreads) q_sh[d] = a.q[i * q_stride + h * hd + d];
  __syncthreads();

  float acc0 = 0.f, acc1 = 0.f, m = -FLT_MAX, l = 0.f;
  const std::int64_t d0 = threadIdx.x, d1 = threadIdx.x + kThreads;
  for (std::int64_t start = first; start <= pos; start += kThreads) {
    const std::int64_t j = start + threadIdx.x;
    float s = -FLT_MAX;
    if (j <= pos) {
      const float* kr = a.k + j * kv_stride + kvh * hd;
      float dot = 0.f;
      for (std::int64_t d = 0; d < hd; ++d) dot += q_sh[d] * kr[d];
      s = dot * a.scale;
      if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
    }
    const float tile_max = block_reduce(s, scratch, true);
    const float new_m = fmaxf(m, tile_max);
    const float p = j <= pos ? expf(s - new_m) : 0.f;
    const float rescale = expf(m - new_m);
    p_sh[threadIdx.x] = p;
    const float tile_sum = block_reduce(p, scratch, false);  // its barriers also publish p_sh
    l = l * rescale + tile_sum;
    acc0 *= rescale;
    acc1 *= rescale;
    const std::int64_t n = min(static_cast<std::int64_t>(kThreads), pos - start + 1);
    for (std::int64_t jj = 0; jj < n; ++jj) {
      const float* vr = a.v + (start + jj) * kv_stride + kvh * hd;
      const float pj = p_sh[jj];
      if (d0 < hd) acc0 += pj * vr[d0];
      if (d1 < hd) acc1 += pj * vr[d1];
    }
    m = new_m;
    __syncthreads();  // p_sh is rewritten by the next tile
  }
  float* o = a.out + i * q_stride + h * hd;
  if (d0 < hd) o[d0] = acc0 / l;
  if (d1 < hd) o[d1] = acc1 / l;
}

}  // namespace

void attention_f32(const AttentionArgs& a, cudaStream_t stream) {
  if (a.Tq == 0) return;
  if (a.head_dim > kMaxHeadDim) throw std::runtime_error("attention_f32: head_dim > 256 is not supported");
  if (a.num_kv_heads <= 0 || a.num_heads % a.num_kv_heads != 0)
    throw std::runtime_error("attention_f32: num_heads must be a multiple of num_kv_heads");
  attention_kernel<<<dim3(static_cast<unsigned>(a.Tq), static_cast<unsigned>(a.num_heads)), kThreads, 0, stream>>>(a);
  check_last_launch("attention");
}

}  // namespace lmscope::cuda
