// Launchers for lmscope's CUDA kernels, on raw device pointers (row-major). All are asynchronous on `stream`;
// the caller checks errors with check_last_launch(). The engine's CUDA backend adapts these to its tensors.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace lmscope::cuda {

// Throws std::runtime_error naming `what` when the last launch failed.
void check_last_launch(const char* what);

// Element type of a tensor the kernels read or write. Arithmetic is float32 in every kernel.
enum class Elem { F32, BF16 };

// dst = src converted elementwise (round to nearest even into bf16).
void convert(const void* src, Elem src_t, void* dst, Elem dst_t, std::int64_t n, cudaStream_t stream);
// out[t, :] = table[ids[t], :]; ids on the device. table [V, H], out [T, H].
void embedding(const void* table, Elem table_t, const std::int32_t* ids, std::int64_t T, std::int64_t H, void* out,
               Elem out_t, cudaStream_t stream);
// out = x / sqrt(mean(x^2) + eps) * w per row of x [T, C]; w float32.
void rmsnorm(const void* x, Elem x_t, const float* w, float eps, std::int64_t T, std::int64_t C, void* out, Elem out_t,
             cudaStream_t stream);
// The pre-norm residual step in one pass: x += r, then out = rmsnorm(x) * w (x [T, C] updated in place).
void add_rmsnorm(void* x, Elem x_t, const void* r, Elem r_t, const float* w, float eps, std::int64_t T, std::int64_t C,
                 void* out, Elem out_t, cudaStream_t stream);
// acc[i] += x[i]
void add(void* acc, Elem acc_t, const void* x, Elem x_t, std::int64_t n, cudaStream_t stream);
// out[t, n] += bias[n] for out [T, N]
void add_bias(void* out, Elem out_t, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream);
// out = silu(gate) * up, elementwise (out may alias gate)
void swiglu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, cudaStream_t stream);
// Rotates x [T, heads * head_dim] in place ("rotate half"), row t with table row pos0 + t of cos/sin [P, half].
void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, cudaStream_t stream);

// Float32 forms (the verification mode's names).
inline void embedding_f32(const float* table, const std::int32_t* ids, std::int64_t T, std::int64_t H, float* out,
                          cudaStream_t stream) {
  embedding(table, Elem::F32, ids, T, H, out, Elem::F32, stream);
}
inline void rmsnorm_f32(const float* x, const float* w, float eps, std::int64_t T, std::int64_t C, float* out,
                        cudaStream_t stream) {
  rmsnorm(x, Elem::F32, w, eps, T, C, out, Elem::F32, stream);
}
inline void add_f32(float* acc, const float* x, std::int64_t n, cudaStream_t stream) { add(acc, Elem::F32, x, Elem::F32, n, stream); }
inline void add_bias_f32(float* out, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream) {
  add_bias(out, Elem::F32, bias, T, N, stream);
}
inline void swiglu_f32(const float* gate, const float* up, float* out, std::int64_t n, cudaStream_t stream) {
  swiglu(gate, up, Elem::F32, out, Elem::F32, n, stream);
}
inline void rope_f32(float* x, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
                     std::int64_t half, std::int64_t pos0, cudaStream_t stream) {
  rope(x, Elem::F32, T, heads, head_dim, cos, sin, half, pos0, stream);
}

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

// The same attention on bfloat16 q/k/v/out (pointers to __nv_bfloat16), tiled for the tensor cores
// (attention_flash_bf16.cu). Supported head dims: attention_bf16_supported().
struct AttentionBf16Args {
  const void* q;  // [Tq, num_heads * head_dim]
  const void* k;  // [>= kv_len, num_kv_heads * head_dim]
  const void* v;
  void* out;      // [Tq, num_heads * head_dim]
  std::int64_t Tq, num_heads, num_kv_heads, head_dim, q_pos0, kv_len, window;
  float scale;
  // Several independent sequences in one launch: sequence b's queries/outputs start at row b·Tq, its keys/values at
  // row b·kv_batch_rows. batch 1 for one sequence.
  std::int64_t batch = 1, kv_batch_rows = 0;
};
bool attention_bf16_supported(std::int64_t head_dim);
void attention_bf16(const AttentionBf16Args& a, cudaStream_t stream);

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
