// Attention of one query row per sequence (decoding steps) over long KV ranges, split along the keys ("flash
// decoding"). The tiled kernels give one block per head to a single query, so a step at 8K context kept 32 of 132
// SMs busy scanning 8K keys each. Here the grid is (KV head, split, sequence): each block takes one range of the
// keys of one KV head of one sequence and keeps an online softmax for every query head of the GQA group (which
// share the key and value rows, read once); a second kernel merges the splits' partial softmaxes. One launch serves
// every sequence of a decoding step, which is what fills the GPU when each sequence alone would not.
// Within a warp, kLanes lanes hold one key row with one 16-byte load each (bf16: 8 values), so a warp reads
// 32 / kLanes rows per step and reduces each row's dot products across its own lanes only; the rows' partial
// softmaxes are merged across the warp at the end, then across the block's warps. Same masking and soft-cap as
// attention_f32.
#include <cfloat>
#include <stdexcept>

#include "device_sms.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxGroup = 8;

template <typename T, int kHd>
struct DecodeLayout {
  static constexpr int kVec = 16 / static_cast<int>(sizeof(T)) > kHd / 32 ? 16 / static_cast<int>(sizeof(T)) : kHd / 32;
  static constexpr int kLanes = kHd / kVec;  // lanes per key row
  static constexpr int kRows = 32 / kLanes;  // key rows per warp step
};

// N consecutive values from 16-byte aligned memory (N a multiple of 4 for float, of 8 for bf16).
template <int N>
__device__ __forceinline__ void load_vec(const float* p, float (&out)[N]) {
#pragma unroll
  for (int i = 0; i < N / 4; ++i) {
    const float4 v = reinterpret_cast<const float4*>(p)[i];
    out[4 * i] = v.x;
    out[4 * i + 1] = v.y;
    out[4 * i + 2] = v.z;
    out[4 * i + 3] = v.w;
  }
}
template <int N>
__device__ __forceinline__ void load_vec(const bf16* p, float (&out)[N]) {
#pragma unroll
  for (int i = 0; i < N / 8; ++i) {
    const uint4 raw = reinterpret_cast<const uint4*>(p)[i];
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __bfloat1622float2(h[j]);
      out[8 * i + 2 * j] = f.x;
      out[8 * i + 2 * j + 1] = f.y;
    }
  }
}

// kG bounds the GQA group (G <= kG). Every loop over the group runs to kG with compile-time indices, so the
// per-head arrays stay in registers: a loop to the run-time G indexes them dynamically, which puts them in local
// memory (that made this kernel ~10x slower than its memory traffic).
template <typename T, int kHd, int kG>
__global__ void __launch_bounds__(kWarps * 32) decode_partial(const AttentionDecodeArgs a) {
  using L = DecodeLayout<T, kHd>;
  constexpr int kVec = L::kVec, kLanes = L::kLanes, kRows = L::kRows;
  const int kvh = blockIdx.x, split = blockIdx.y, z = blockIdx.z, G = static_cast<int>(a.num_heads / a.num_kv_heads);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, sub = lane / kLanes, part = lane % kLanes;
  const AttentionDecodeSeq& sq = a.seq[z];
  const std::int64_t per_split = (sq.end - sq.first + a.splits - 1) / a.splits;
  const std::int64_t s0 = sq.first + split * per_split, s1 = min(sq.end, s0 + per_split);
  const std::int64_t kv_stride = a.num_kv_heads * kHd;
  const T* q = static_cast<const T*>(a.q) + z * a.num_heads * kHd + part * kVec;
  const T* k = static_cast<const T*>(sq.k) + kvh * kHd + part * kVec;
  const T* v = static_cast<const T*>(sq.v) + kvh * kHd + part * kVec;

  float qv[kG][kVec], acc[kG][kVec], m[kG], l[kG];
#pragma unroll
  for (int g = 0; g < kG; ++g) {
    m[g] = -FLT_MAX;
    l[g] = 0.f;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      acc[g][e] = 0.f;
      qv[g][e] = g < G ? ld(q + (kvh * G + g) * kHd + e) : 0.f;
    }
  }
  // The loop bound is the same for the whole warp (the shuffles below need every lane); rows past the range load
  // nothing and update nothing. The next rows' keys and values are loaded before this step's arithmetic, so two
  // steps' loads are in flight.
  auto load = [&](std::int64_t j, float (&kf)[kVec], float (&vf)[kVec]) {
    if (j < s1) {
      load_vec(k + j * kv_stride, kf);
      load_vec(v + j * kv_stride, vf);
    } else {
#pragma unroll
      for (int e = 0; e < kVec; ++e) kf[e] = vf[e] = 0.f;
    }
  };
  constexpr int kStride = kWarps * kRows;
  float kf[kVec], vf[kVec], nk[kVec], nv[kVec];
  load(s0 + warp * kRows + sub, kf, vf);
  for (std::int64_t base = s0 + warp * kRows; base < s1; base += kStride) {
    const std::int64_t j = base + sub;
    const bool valid = j < s1;
    load(j + kStride, nk, nv);
#pragma unroll
    for (int g = 0; g < kG; ++g) {
      if (g >= G) break;
      float dot = 0.f;
#pragma unroll
      for (int e = 0; e < kVec; ++e) dot += qv[g][e] * kf[e];
#pragma unroll
      for (int o = kLanes / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffff, dot, o);
      if (!valid) continue;
      float s = dot * a.scale;
      if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
      const float new_m = fmaxf(m[g], s);
      const float c = __expf(m[g] - new_m), p = __expf(s - new_m);
      l[g] = l[g] * c + p;
#pragma unroll
      for (int e = 0; e < kVec; ++e) acc[g][e] = acc[g][e] * c + p * vf[e];
      m[g] = new_m;
    }
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      kf[e] = nk[e];
      vf[e] = nv[e];
    }
  }
  // The warp's key rows merged: lanes holding the same dimensions of different rows combine their softmaxes.
#pragma unroll
  for (int o = kLanes; o < 32; o <<= 1) {
#pragma unroll
    for (int g = 0; g < kG; ++g) {
      if (g >= G) break;
      const float mo = __shfl_xor_sync(0xffffffff, m[g], o), lo = __shfl_xor_sync(0xffffffff, l[g], o);
      const float M = fmaxf(m[g], mo);
      const float c1 = l[g] > 0.f ? __expf(m[g] - M) : 0.f, c2 = lo > 0.f ? __expf(mo - M) : 0.f;
      l[g] = l[g] * c1 + lo * c2;
#pragma unroll
      for (int e = 0; e < kVec; ++e) acc[g][e] = acc[g][e] * c1 + __shfl_xor_sync(0xffffffff, acc[g][e], o) * c2;
      m[g] = M;
    }
  }

  // The block's warps merged through shared memory, then one partial (m, l, acc[hd]) per query head and split.
  __shared__ float sm_m[kWarps][kG], sm_l[kWarps][kG];
  __shared__ float sm_acc[kWarps][kG][kHd];
  if (sub == 0)
#pragma unroll
    for (int g = 0; g < kG; ++g) {
      if (g >= G) break;
      if (part == 0) {
        sm_m[warp][g] = m[g];
        sm_l[warp][g] = l[g];
      }
#pragma unroll
      for (int e = 0; e < kVec; ++e) sm_acc[warp][g][part * kVec + e] = acc[g][e];
    }
  __syncthreads();
  for (int idx = threadIdx.x; idx < G * kHd; idx += kWarps * 32) {
    const int g = idx / kHd, d = idx % kHd;
    float M = -FLT_MAX;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_m[w][g]);
    float Lsum = 0.f, A = 0.f;
    for (int w = 0; w < kWarps; ++w) {
      const float c = sm_l[w][g] > 0.f ? __expf(sm_m[w][g] - M) : 0.f;  // a warp that saw no key adds nothing
      Lsum += sm_l[w][g] * c;
      A += sm_acc[w][g][d] * c;
    }
    const std::int64_t h = kvh * G + g;
    float* out = a.workspace + ((z * a.num_heads + h) * a.splits + split) * (kHd + 2);
    out[2 + d] = A;
    if (d == 0) {
      out[0] = M;
      out[1] = Lsum;
    }
  }
}

// One block per query head and sequence: the splits' partial softmaxes merged into the output row.
template <typename T>
__global__ void decode_merge(const float* __restrict__ ws, T* __restrict__ out, int num_heads, int hd, int splits) {
  const int h = blockIdx.x, z = blockIdx.y;
  const std::int64_t row = static_cast<std::int64_t>(z) * num_heads + h;
  const float* base = ws + row * splits * (hd + 2);
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
    st(out + row * hd + d, A / L);
  }
}

template <typename T, int kHd, int kG>
void launch_decode(const AttentionDecodeArgs& a, cudaStream_t stream) {
  decode_partial<T, kHd, kG><<<dim3(static_cast<unsigned>(a.num_kv_heads), static_cast<unsigned>(a.splits), static_cast<unsigned>(a.n)),
                           kWarps * 32, 0, stream>>>(a);
  check_last_launch("attention_decode");
  decode_merge<T><<<dim3(static_cast<unsigned>(a.num_heads), static_cast<unsigned>(a.n)), kHd, 0, stream>>>(
      a.workspace, static_cast<T*>(a.out), static_cast<int>(a.num_heads), kHd, a.splits);
  check_last_launch("attention_decode merge");
}

}  // namespace

bool attention_decode_supported(std::int64_t head_dim, std::int64_t num_heads, std::int64_t num_kv_heads) {
  return (head_dim == 64 || head_dim == 128 || head_dim == 256) && num_kv_heads > 0 && num_heads % num_kv_heads == 0 &&
         num_heads / num_kv_heads <= kMaxGroup;
}

int attention_decode_splits(std::int64_t kv_range, std::int64_t n, std::int64_t num_kv_heads) {
  const int sm_count = current_device_sms();
  // At most four blocks per SM over the whole grid (what fits at once for GQA groups up to 4: one wave, no
  // straggling partial second wave), and at least 64 keys per block (below that the merge costs more than it saves).
  const std::int64_t blocks = std::max<std::int64_t>(1, n * num_kv_heads);
  const std::int64_t want = 4 * static_cast<std::int64_t>(sm_count) / blocks;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>({want, (kv_range + 63) / 64, 1024})));
}

void attention_decode(const AttentionDecodeArgs& a, Elem e, cudaStream_t stream) {
  if (!attention_decode_supported(a.head_dim, a.num_heads, a.num_kv_heads))
    throw std::runtime_error("attention_decode: unsupported head_dim or GQA group");
  if (a.n < 1 || a.n > kMaxDecodeRows || a.splits < 1) throw std::runtime_error("attention_decode: bad row or split count");
  const std::int64_t G = a.num_heads / a.num_kv_heads;
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    auto by_group = [&]<int kHd>() {
      if (G == 1) launch_decode<T, kHd, 1>(a, stream);
      else if (G == 2) launch_decode<T, kHd, 2>(a, stream);
      else if (G <= 4) launch_decode<T, kHd, 4>(a, stream);
      else launch_decode<T, kHd, 8>(a, stream);
    };
    if (a.head_dim == 64) by_group.template operator()<64>();
    else if (a.head_dim == 128) by_group.template operator()<128>();
    else by_group.template operator()<256>();
  });
}

}  // namespace lmscope::cuda
