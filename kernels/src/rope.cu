// RoPE ("rotate half") from precomputed float32 cos/sin tables, on f32 or bf16 rows; row t at position
// pos0 + t % period (period T for one sequence, a sequence's length for a batch of them).
// Launch: one block of 128 threads per token row; the threads stride over (head, pair) with 32-bit index math
// (64-bit division per element cost more than the memory traffic). Traffic: reads and writes the rotated 2*half
// values of each head once, reads the row's table entries (L1/L2-resident) once per head.
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

}  // namespace

void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, std::int64_t period, cudaStream_t stream) {
  if (T * heads * half == 0) return;
  if (T > 0x7fffffff || heads * head_dim > 0x7fffffff) throw std::runtime_error("rope: tensor too large");
  if (period < 1) throw std::runtime_error("rope: period must be positive");
  dispatch(x_t, [&](auto a) {
    using A = decltype(a);
    rope_kernel<<<static_cast<unsigned>(T), 128, 0, stream>>>(static_cast<A*>(x), static_cast<int>(heads), static_cast<int>(head_dim),
                                                              cos, sin, static_cast<int>(half), pos0,
                                                              static_cast<int>(std::min(period, T)));
  });
  check_last_launch("rope");
}

}  // namespace lmscope::cuda
