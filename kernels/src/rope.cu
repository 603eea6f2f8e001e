// RoPE ("rotate half") from precomputed float32 cos/sin tables, on f32 or bf16 rows; row t at position
// pos0 + t % period (period T for one sequence, a sequence's length for a batch of them).
// bf16 rows whose half is a multiple of 8 (every family's head size): a thread per 8 pairs, each side's 8 values one
// 16-byte load and store and the table entries two 32-byte reads (RetNet-1.3B's q or k, 16384 × 2048 values, took
// 84 µs per call on the H200 with 2-byte accesses; moving its bytes takes ~30). Otherwise one block of 128
// threads per token row striding over (head, pair) with 32-bit index math (64-bit division per element cost more
// than the memory traffic).
#include <algorithm>

#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename T>
__global__ void rope_kernel(T* x, int heads, int head_dim, const float* cos, const float* sin, int half, std::int64_t pos0,
                            int period) {
  const std::int64_t t = blockIdx.x;
  T* row = x + t * static_cast<std::int64_t>(heads) * head_dim;
  const std::int64_t pos = pos0 + static_cast<int>(t) % period;
  const float* c_row = cos + pos * half;
  const float* s_row = sin + pos * half;
  const int n = heads * half;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    const int h = j / half, i = j - h * half;
    T* v = row + h * head_dim;
    const float c = c_row[i], s = s_row[i];
    const float a = ld(v + i), b = ld(v + i + half);
    st(v + i, a * c - b * s);
    st(v + i + half, b * c + a * s);
  }
}

constexpr int kRopeVec = 8;

__global__ void rope_bf16x8_kernel(bf16* __restrict__ x, int heads, int head_dim, const float* __restrict__ cos,
                                   const float* __restrict__ sin, int half, std::int64_t pos0, int period, int T) {
  const int per_head = half / kRopeVec, per_row = heads * per_head;
  const std::int64_t item = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (item >= static_cast<std::int64_t>(T) * per_row) return;
  const int t = static_cast<int>(item / per_row), j = static_cast<int>(item - static_cast<std::int64_t>(t) * per_row);
  const int h = j / per_head, i = (j - h * per_head) * kRopeVec;
  bf16* v = x + static_cast<std::int64_t>(t) * heads * head_dim + h * head_dim;
  const std::int64_t pos = pos0 + t % period;
  const float4* c4 = reinterpret_cast<const float4*>(cos + pos * half + i);
  const float4* s4 = reinterpret_cast<const float4*>(sin + pos * half + i);
  const float4 c01 = c4[0], c23 = c4[1], s01 = s4[0], s23 = s4[1];
  const float c[kRopeVec] = {c01.x, c01.y, c01.z, c01.w, c23.x, c23.y, c23.z, c23.w};
  const float sn[kRopeVec] = {s01.x, s01.y, s01.z, s01.w, s23.x, s23.y, s23.z, s23.w};
  float a[kRopeVec], b[kRopeVec], ra[kRopeVec], rb[kRopeVec];
  load8(v + i, a);
  load8(v + i + half, b);
#pragma unroll
  for (int k = 0; k < kRopeVec; ++k) {
    ra[k] = a[k] * c[k] - b[k] * sn[k];
    rb[k] = b[k] * c[k] + a[k] * sn[k];
  }
  store8(v + i, ra);
  store8(v + i + half, rb);
}

}  // namespace

void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, std::int64_t period, cudaStream_t stream) {
  if (T * heads * half == 0) return;
  if (T > 0x7fffffff || heads * head_dim > 0x7fffffff) throw std::runtime_error("rope: tensor too large");
  if (period < 1) throw std::runtime_error("rope: period must be positive");
  const int per = static_cast<int>(std::min(period, T));
  if (x_t == Elem::BF16 && half % kRopeVec == 0 && head_dim % kRopeVec == 0 && aligned16(x) && aligned16(cos) && aligned16(sin) &&
      T * heads * (half / kRopeVec) <= 0x7fffffff) {
    const std::int64_t items = T * heads * (half / kRopeVec);
    rope_bf16x8_kernel<<<static_cast<unsigned>((items + 255) / 256), 256, 0, stream>>>(
        static_cast<bf16*>(x), static_cast<int>(heads), static_cast<int>(head_dim), cos, sin, static_cast<int>(half), pos0, per,
        static_cast<int>(T));
    check_last_launch("rope");
    return;
  }
  dispatch(x_t, [&](auto a) {
    using A = decltype(a);
    rope_kernel<<<static_cast<unsigned>(T), 128, 0, stream>>>(static_cast<A*>(x), static_cast<int>(heads), static_cast<int>(head_dim),
                                                              cos, sin, static_cast<int>(half), pos0, per);
  });
  check_last_launch("rope");
}

}  // namespace lmscope::cuda
