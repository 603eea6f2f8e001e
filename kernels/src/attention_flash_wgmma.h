// The Hopper flash attention (attention_flash_wgmma.cu, compiled for sm_90a only when the build targets sm_90):
// attention_bf16 calls it on an sm_90 device; the mma.sync kernel serves every other GPU.
#pragma once
#include <cstdint>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {

bool attention_bf16_wgmma_supports(std::int64_t head_dim);
// Same contract as attention_bf16 (its checks done by the caller); launches only, no error check.
void attention_bf16_wgmma(const AttentionBf16Args& a, cudaStream_t stream);

}  // namespace lmscope::cuda
