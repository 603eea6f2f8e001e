// Per-head normalisation of q and k for the delta-rule families: x / sqrt(Σx² + eps) (l2) or x / Σx (sum), in
// place, float32 or bf16. Launch: one warp per head group (lanes stride over head_dim), 8 groups per 256-thread
// block; two passes over the group, the second from L1.
#include "block_reduce.cuh"
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

// mode 0: x / sqrt(Σx² + eps); mode 1: x / Σx
template <typename T>
__global__ void normalize_heads_kernel(T* x, std::int64_t groups, std::int64_t head_dim, float eps, int mode) {
  const std::int64_t warp = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= groups) return;
  T* h = x + warp * head_dim;
  float acc = 0.f;
  for (std::int64_t i = lane; i < head_dim; i += 32) {
    const float v = ld(h + i);
    acc += mode == 0 ? v * v : v;
  }
  acc = warp_sum(acc);
  if (mode == 0) {
    const float inv = 1.0f / sqrtf(acc + eps);
    for (std::int64_t i = lane; i < head_dim; i += 32) st(h + i, ld(h + i) * inv);
  } else {
    for (std::int64_t i = lane; i < head_dim; i += 32) st(h + i, ld(h + i) / acc);
  }
}

}  // namespace

void normalize_heads(void* x, Elem t, std::int64_t n, std::int64_t head_dim, float eps, bool l2, cudaStream_t stream) {
  const std::int64_t groups = n / head_dim;
  if (groups == 0) return;
  dispatch(t, [&](auto e) {
    using T = decltype(e);
    normalize_heads_kernel<<<static_cast<unsigned>((groups + 7) / 8), 256, 0, stream>>>(static_cast<T*>(x), groups, head_dim,
                                                                                      eps, l2 ? 0 : 1);
  });
  check_last_launch("normalize_heads");
}

}  // namespace lmscope::cuda
