// Embedding gather. Launch: one block of 256 threads per token, threads stride over the hidden size.
// Traffic: reads T*H elements of the table (bf16 or f32), writes T*H (the residual stream, usually f32).
#include "elem.cuh"

namespace lmscope::cuda {
namespace {

template <typename TIn, typename TOut>
__global__ void embedding_kernel(const TIn* table, const std::int32_t* ids, std::int64_t H, TOut* out) {
  const std::int64_t t = blockIdx.x;
  const TIn* row = table + static_cast<std::int64_t>(ids[t]) * H;
  for (std::int64_t c = threadIdx.x; c < H; c += blockDim.x) st(out + t * H + c, ld(row + c));
}

}  // namespace

void embedding(const void* table, Elem table_t, const std::int32_t* ids, std::int64_t T, std::int64_t H, void* out,
               Elem out_t, cudaStream_t stream) {
  if (T == 0) return;
  dispatch(table_t, [&](auto a) {
    dispatch(out_t, [&](auto b) {
      using A = decltype(a);
      using B = decltype(b);
      embedding_kernel<<<static_cast<unsigned>(T), 256, 0, stream>>>(static_cast<const A*>(table), ids, H, static_cast<B*>(out));
    });
  });
  check_last_launch("embedding");
}

}  // namespace lmscope::cuda
