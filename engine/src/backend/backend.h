// The op set models are written in. The CPU backend is the readable float32 reference for every op; the CUDA
// backend (kernels/) implements the same ops fast. Shapes are row-major; "[T, C]" means T rows of C values.
// Ops never synchronise with the host except download().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/tensor.h"
#include "lmscope/safetensors.h"

namespace lmscope {

struct AttentionShape {
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;  // divides num_heads (grouped-query attention)
  std::int64_t head_dim = 0;
  std::int64_t q_pos0 = 0;   // position of the first query row; query i is at q_pos0 + i
  std::int64_t kv_len = 0;   // keys/values rows [0, kv_len) are valid
  std::int64_t window = 0;   // > 0: query at p sees keys p-window+1 .. p; 0: all earlier keys
  float scale = 1.0f;        // multiplies q·k
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Uninitialised tensor in the backend's memory.
  virtual Tensor alloc(DType dtype, std::vector<std::int64_t> shape) = 0;
  // A stored weight in the backend's compute type (converted from F16/BF16 as needed).
  virtual Tensor weight(const TensorView& w) = 0;
  virtual void upload(std::span<const float> src, Tensor& dst) = 0;
  virtual void download(const Tensor& src, std::span<float> dst) = 0;

  // out[i, :] = table[ids[i], :]
  virtual void embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) = 0;
  // out = x / sqrt(mean(x^2) + eps) * w, per row
  virtual void rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) = 0;
  // acc += x
  virtual void add(Tensor& acc, const Tensor& x) = 0;
  // out = x · wᵀ (+ bias): x [T, K], w [N, K] (the Hugging Face layout), out [T, N]
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) = 0;
  // Rotates x [T, heads * head_dim] in place, "rotate half" convention on the first 2 * cos.cols() dims of each
  // head; row i uses table row pos0 + i of cos/sin [positions, rotary_dim / 2] (attention factor folded in).
  virtual void rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                    std::int64_t pos0) = 0;
  // Causal softmax attention. q [Tq, num_heads * head_dim]; k, v [capacity, num_kv_heads * head_dim] with rows
  // [0, kv_len) valid; out [Tq, num_heads * head_dim].
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape,
                         Tensor& out) = 0;
  // dst rows [dst_row, dst_row + src.rows()) = src
  virtual void copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) = 0;
  // out = silu(gate) * up
  virtual void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  // Fused LM head + log-softmax + gather: for each row t of x [T, H], with logits = x · wᵀ (w [V, H]),
  // logprobs[t] = log_softmax(logits[t])[targets[t]] and greedy[t] = (targets[t] is the first argmax), computed in
  // vocabulary chunks with an online log-sum-exp so [T, V] never exists. targets[t] < 0: logprobs 0, greedy 0.
  virtual void token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets,
                              std::span<double> logprobs, std::span<std::uint8_t> greedy) = 0;
};

// "cpu" (always) or "cuda" (when built with LMSCOPE_CUDA and a device is present). BadInput otherwise.
std::shared_ptr<Backend> make_backend(const std::string& name);
std::vector<std::string> available_backends();

}  // namespace lmscope
