// A decoding step's RoPE and KV-cache writes for every sequence of the step in one launch: done per sequence they
// were four launches each (rotate q, rotate k, copy k, copy v), 512 per step for 8 sequences of a 16-layer model.
// One block of 128 threads per sequence; the new key is rotated on its way into the cache (read once, written
// once), with the same float32 arithmetic and rounding as rope.cu.
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename T>
__global__ void rope_kv_append_kernel(const RopeKvAppendArgs a) {
  const int i = blockIdx.x;
  const KvAppendRow& r = a.row[i];
  const int hd = static_cast<int>(a.head_dim), half = r.cos ? static_cast<int>(a.half) : 0;
  const int q_cols = static_cast<int>(a.num_heads) * hd, kv_cols = static_cast<int>(a.num_kv_heads) * hd;
  T* q = static_cast<T*>(a.q) + static_cast<std::int64_t>(i) * q_cols;
  const T* k = static_cast<const T*>(a.k) + static_cast<std::int64_t>(i) * kv_cols;
  const T* v = static_cast<const T*>(a.v) + static_cast<std::int64_t>(i) * kv_cols;
  T* kd = static_cast<T*>(r.k_dst);
  T* vd = static_cast<T*>(r.v_dst);
  const float* c = half ? r.cos + r.pos * half : nullptr;
  const float* s = half ? r.sin + r.pos * half : nullptr;
  if (half)
    for (int j = threadIdx.x; j < static_cast<int>(a.num_heads) * half; j += blockDim.x) {
      const int h = j / half, x = j - h * half;
      T* p = q + h * hd;
      const float lo = ld(p + x), hi = ld(p + x + half);
      st(p + x, lo * c[x] - hi * s[x]);
      st(p + x + half, hi * c[x] + lo * s[x]);
    }
  for (int j = threadIdx.x; j < kv_cols; j += blockDim.x) {
    const int d = j % hd;
    float val;
    if (d < half)
      val = ld(k + j) * c[d] - ld(k + j + half) * s[d];
    else if (d < 2 * half)
      val = ld(k + j) * c[d - half] + ld(k + j - half) * s[d - half];
    else
      val = ld(k + j);
    st(kd + j, val);
    st(vd + j, ld(v + j));
  }
}

}  // namespace

void rope_kv_append(const RopeKvAppendArgs& a, Elem e, cudaStream_t stream) {
  if (a.n < 1) return;
  if (a.n > kMaxDecodeRows) throw std::runtime_error("rope_kv_append: too many rows for one launch");
  if (2 * a.half > a.head_dim || (a.num_heads + a.num_kv_heads) * a.head_dim > 0x7fffffff)
    throw std::runtime_error("rope_kv_append: bad shape");
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    rope_kv_append_kernel<T><<<static_cast<unsigned>(a.n), 128, 0, stream>>>(a);
  });
  check_last_launch("rope_kv_append");
}

}  // namespace lmscope::cuda
