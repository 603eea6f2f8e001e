// The chunked linear attention's fused state + output pass for Hopper (linear_attention_fused_wgmma.cu, compiled for
// sm_90a only when the build targets sm_90): linear_attention_chunked_bf16 calls it on an sm_90 device for the shapes
// it supports; the mma.sync kernels serve everything else.
#pragma once
#include <cstdint>

#include "lmscope_kernels/ops.h"

namespace lmscope::cuda {

// What the prepare kernel left in the workspace (linear_attention_chunked.cu's Work, materialised q and k only).
struct LinearAttentionPrepared {
  const void* Qg;    // [batch × HV, Tp, dk] bf16: scale q_i ⊙ e^{G_i}
  const void* Kd;    // [batch × HV, Tp, dk] bf16: κ_j k_j ⊙ e^{G_last − G_j}
  const void* P;     // [batch × HV, Tp, 64] bf16: the chunk's causal products
  const float* dec;  // [batch × HV, NC, dk]: e^{G_last} per chunk
  std::int64_t NC, Tp;
};

// What the kernel is built for: dk 256 (RetNet / GLA at 1.3B), dv a multiple of 64, no SSD (its skip term and dt);
// the caller also needs q and k materialised (Qg, Kd).
bool linear_attention_fused_wgmma_supports(const LinearAttentionChunkedArgs& a);
// Same contract as the fused pass of linear_attention_chunked_bf16 (checks done by the caller); launches only. pair:
// each column tile on a cluster of two CTAs (for grids of fewer tiles than SMs).
void linear_attention_fused_wgmma(const LinearAttentionChunkedArgs& a, const LinearAttentionPrepared& w, bool pair,
                                  cudaStream_t stream);

}  // namespace lmscope::cuda
