// Embedding gather. Launch: one block per token, threads stride over the hidden size.
// Traffic: reads T*H floats of the table, writes T*H.
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {
namespace {

__global__ void embedding_kernel(const float* table, const std::int32_t* ids, std::int64_t H, float* out) {
  const std::int64_t t = blockIdx.x;
  const float* row = table + static_cast<std::int64_t>(ids[t]) * H;
  for (std::int64_t c = threadIdx.x; c < H; c += blockDim.x) out[t * H + c] = row[c];
}

}  // namespace

void embedding_f32(const float* table, const std::int32_t* ids, std::int64_t T, std::int64_t H, float* out,
                   cudaStream_t stream) {
  if (T == 0) return;
  embedding_kernel<<<static_cast<unsigned>(T), 256, 0, stream>>>(table, ids, H, out);
  check_last_launch("embedding");
}

}  // namespace lmscope::cuda
