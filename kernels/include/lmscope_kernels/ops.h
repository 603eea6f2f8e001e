// Launchers for lmscope's CUDA kernels, on raw device pointers (row-major). All are asynchronous on `stream`;
// the caller checks errors with check_last_launch(). The engine's CUDA backend adapts these to its tensors.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace lmscope::cuda {

// Throws std::runtime_error naming `what` when the last launch failed.
void check_last_launch(const char* what);

// out[t, :] = table[ids[t], :]; ids on the device. table [V, H], out [T, H].
void embedding_f32(const float* table, const std::int32_t* ids, std::int64_t T, std::int64_t H, float* out,
                   cudaStream_t stream);
// out = x / sqrt(mean(x^2) + eps) * w per row of x [T, C].
void rmsnorm_f32(const float* x, const float* w, float eps, std::int64_t T, std::int64_t C, float* out,
                 cudaStream_t stream);
// acc[i] += x[i]
void add_f32(float* acc, const float* x, std::int64_t n, cudaStream_t stream);
// out[t, n] += bias[n] for out [T, N]
void add_bias_f32(float* out, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream);
// out = silu(gate) * up, elementwise (out may alias gate)
void swiglu_f32(const float* gate, const float* up, float* out, std::int64_t n, cudaStream_t stream);
// Rotates x [T, heads * head_dim] in place ("rotate half"), row t with table row pos0 + t of cos/sin [P, half].
void rope_f32(float* x, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
              std::int64_t half, std::int64_t pos0, cudaStream_t stream);

struct AttentionArgs {
  const float* q;  // [Tq, num_heads * head_dim]
  const float* k;  // [>= kv_len, num_kv_heads * head_dim]
  const float* v;
  float* out;      // [Tq, num_heads * head_dim]
  std::int64_t Tq, num_heads, num_kv_heads, head_dim, q_pos0, kv_len, window;
  float scale;
};
// Causal (optionally sliding-window) softmax attention with an online softmax: no [Tq, Tk] matrix in memory.
void attention_f32(const AttentionArgs& a, cudaStream_t stream);

}  // namespace lmscope::cuda

namespace lmscope::cuda {

// Running state of the fused LM-head scoring, one entry per row (device arrays).
struct VocabScoreState {
  double* max;             // running max logit
  double* sum;             // sum of exp(logit - max) so far
  long long* argmax;       // first index of the max
  float* target_logit;     // the target's logit once its chunk was seen
};
void vocab_scores_init(const VocabScoreState& s, std::int64_t T, cudaStream_t stream);
// Folds columns [c0, c0 + n) of the logits chunk [T, ld] (first n columns valid) into the state.
void vocab_scores_update(const float* logits, std::int64_t ld, std::int64_t T, std::int64_t n, std::int64_t c0,
                         const std::int32_t* targets, const VocabScoreState& s, cudaStream_t stream);

}  // namespace lmscope::cuda
