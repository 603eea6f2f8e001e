// Attention of one query row (a decode step) over a long KV range, split along the keys ("flash decoding"). The
// tiled kernels give one block per head to a single query, so a step at 8K context kept 32 of 132 SMs busy
// scanning 8K keys each; here the keys of each KV head are cut into `splits` ranges, one block each, and a second
// kernel merges the partial softmaxes. A block is 4 warps; each warp walks every 4th key of its range, the lanes
// holding head_dim / 32 dimensions, and updates an online softmax for every query head of the GQA group (which
// share the key and value rows, read once). Same masking and soft-cap as attention_f32.
#include <cfloat>
#include <stdexcept>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxGroup = 8;

template <typename T, int kPerLane>
__global__ void __launch_bounds__(kWarps * 32) decode_partial(AttentionDecodeArgs a, const T* __restrict__ q,
                                                               const T* __restrict__ k, const T* __restrict__ v,
                                                               float* __restrict__ ws, std::int64_t first,
                                                               std::int64_t per_split) {
  constexpr int hd = kPerLane * 32;
  const int kvh = blockIdx.x, split = blockIdx.y, G = static_cast<int>(a.num_heads / a.num_kv_heads);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t kv_stride = a.num_kv_heads * hd, pos = a.q_pos;
  const std::int64_t s0 = first + split * per_split, s1 = min(pos + 1, s0 + per_split);

  float qv[kMaxGroup][kPerLane], acc[kMaxGroup][kPerLane], m[kMaxGroup], l[kMaxGroup];
#pragma unroll
  for (int g = 0; g < kMaxGroup; ++g) {
    m[g] = -FLT_MAX;
    l[g] = 0.f;
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
      acc[g][e] = 0.f;
      qv[g][e] = g < G ? ld(q + (kvh * G + g) * hd + lane * kPerLane + e) : 0.f;
    }
  }
  for (std::int64_t j = s0 + warp; j < s1; j += kWarps) {
    const T* kr = k + j * kv_stride + kvh * hd + lane * kPerLane;
    const T* vr = v + j * kv_stride + kvh * hd + lane * kPerLane;
    float kf[kPerLane], vf[kPerLane];
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
      kf[e] = ld(kr + e);
      vf[e] = ld(vr + e);
    }
#pragma unroll
    for (int g = 0; g < kMaxGroup; ++g) {
      if (g >= G) break;
      float dot = 0.f;
#pragma unroll
      for (int e = 0; e < kPerLane; ++e) dot += qv[g][e] * kf[e];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffff, dot, o);
      float s = dot * a.scale;
      if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
      const float new_m = fmaxf(m[g], s);
      const float c = __expf(m[g] - new_m), p = __expf(s - new_m);
      l[g] = l[g] * c + p;
#pragma unroll
      for (int e = 0; e < kPerLane; ++e) acc[g][e] = acc[g][e] * c + p * vf[e];
      m[g] = new_m;
    }
  }

  // The block's 4 warps merged through shared memory, then one partial (m, l, acc[hd]) per query head and split.
  __shared__ float sm_m[kWarps][kMaxGroup], sm_l[kWarps][kMaxGroup];
  __shared__ float sm_acc[kWarps][kMaxGroup][hd];
  for (int g = 0; g < G; ++g) {
    if (lane == 0) {
      sm_m[warp][g] = m[g];
      sm_l[warp][g] = l[g];
    }
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) sm_acc[warp][g][lane * kPerLane + e] = acc[g][e];
  }
  __syncthreads();
  const std::int64_t splits = gridDim.y;
  for (int idx = threadIdx.x; idx < G * hd; idx += kWarps * 32) {
    const int g = idx / hd, d = idx % hd;
    float M = -FLT_MAX;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_m[w][g]);
    float L = 0.f, A = 0.f;
    for (int w = 0; w < kWarps; ++w) {
      const float c = sm_l[w][g] > 0.f ? __expf(sm_m[w][g] - M) : 0.f;  // a warp that saw no key adds nothing
      L += sm_l[w][g] * c;
      A += sm_acc[w][g][d] * c;
    }
    const std::int64_t h = kvh * G + g;
    float* part = ws + (h * splits + split) * (hd + 2);
    part[2 + d] = A;
    if (d == 0) {
      part[0] = M;
      part[1] = L;
    }
  }
}

// One block per query head: the splits' partial softmaxes merged into the output row.
template <typename T>
__global__ void decode_merge(const float* __restrict__ ws, T* __restrict__ out, int hd, int splits) {
  const int h = blockIdx.x;
  const float* base = ws + static_cast<std::int64_t>(h) * splits * (hd + 2);
  float M = -FLT_MAX;
  for (int s = 0; s < splits; ++s)
    if (base[s * (hd + 2) + 1] > 0.f) M = fmaxf(M, base[s * (hd + 2)]);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float L = 0.f, A = 0.f;
    for (int s = 0; s < splits; ++s) {
      const float* p = base + s * (hd + 2);
      if (p[1] <= 0.f) continue;  // an empty split
      const float c = __expf(p[0] - M);
      L += p[1] * c;
      A += p[2 + d] * c;
    }
    st(out + static_cast<std::int64_t>(h) * hd + d, A / L);
  }
}

template <typename T, int kPerLane>
void launch_decode(const AttentionDecodeArgs& a, std::int64_t first, std::int64_t per_split, int splits, cudaStream_t stream) {
  decode_partial<T, kPerLane><<<dim3(static_cast<unsigned>(a.num_kv_heads), static_cast<unsigned>(splits)), kWarps * 32, 0,
                                stream>>>(a, static_cast<const T*>(a.q), static_cast<const T*>(a.k), static_cast<const T*>(a.v),
                                          a.workspace, first, per_split);
  check_last_launch("attention_decode");
  decode_merge<T><<<static_cast<unsigned>(a.num_heads), kPerLane * 32, 0, stream>>>(a.workspace, static_cast<T*>(a.out),
                                                                                     kPerLane * 32, splits);
  check_last_launch("attention_decode merge");
}

}  // namespace

bool attention_decode_supported(std::int64_t head_dim, std::int64_t num_heads, std::int64_t num_kv_heads) {
  return (head_dim == 64 || head_dim == 128 || head_dim == 256) && num_kv_heads > 0 && num_heads % num_kv_heads == 0 &&
         num_heads / num_kv_heads <= kMaxGroup;
}

int attention_decode_splits(std::int64_t kv_range, std::int64_t num_kv_heads) {
  static const int sm_count = [] {
    int device = 0, n = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
    return n > 0 ? n : 1;
  }();
  // About two blocks per SM, and at least 64 keys per block (below that the merge costs more than it saves).
  const std::int64_t want = (2 * static_cast<std::int64_t>(sm_count) + num_kv_heads - 1) / num_kv_heads;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>({want, (kv_range + 63) / 64, 1024})));
}

void attention_decode(const AttentionDecodeArgs& a, Elem e, cudaStream_t stream) {
  if (!attention_decode_supported(a.head_dim, a.num_heads, a.num_kv_heads))
    throw std::runtime_error("attention_decode: unsupported head_dim or GQA group");
  const std::int64_t first = a.window > 0 ? std::max<std::int64_t>(0, a.q_pos - a.window + 1) : 0;
  const std::int64_t range = a.q_pos + 1 - first;
  const std::int64_t per_split = (range + a.splits - 1) / a.splits;
  const int splits = static_cast<int>((range + per_split - 1) / per_split);  // no empty trailing split
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    if (a.head_dim == 64) launch_decode<T, 2>(a, first, per_split, splits, stream);
    else if (a.head_dim == 128) launch_decode<T, 4>(a, first, per_split, splits, stream);
    else launch_decode<T, 8>(a, first, per_split, splits, stream);
  });
}

}  // namespace lmscope::cuda
