// The CUDA backend: the same ops as the CPU reference, on one GPU, in one of two modes.
// - bf16 (the default): matrices (2-D weights) are stored in bfloat16 once at load, activations between ops are
//   bfloat16 except the residual stream (float32); matrix products run through cuBLASLt (bf16 in, fp32
//   accumulate), attention through the tensor-core flash kernel, everything else through our kernels with fp32
//   arithmetic.
// - fp32 (verification): float32 everywhere, cuBLAS with TF32 off, the streaming float32 attention kernel.
// Every op accepts F32 or BF16 tensors (converting where it must), so families whose models allocate F32
// activations run in either mode. Memory comes from CUDA's stream-ordered pool on the backend's one stream: an
// alloc after the first pass of a given shape reuses freed blocks without a cudaMalloc or any synchronisation, and
// its high-water mark is the peak reported. Tensors live in device memory; only upload/download, token ids (through
// pinned staging) and the scores of token_logprobs cross to the host.
#pragma once

#include <cuda_runtime.h>

#include <memory>

#include "backend/backend.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {

class CudaBackend final : public Backend {
 public:
  // BadInput when no device can be used (the message says why).
  explicit CudaBackend(int device = 0, bool bf16 = false);
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  DType activation_dtype() const override;
  std::int64_t peak_memory_bytes() const override;
  void reset_peak_memory() override;
  void add_rmsnorm(Tensor& x, const Tensor& r, const Tensor& w, float eps, Tensor& out) override;
  Tensor alloc(DType dtype, std::vector<std::int64_t> shape) override;
  Tensor weight(const TensorView& w) override;
  Tensor weight_from_host(std::span<const float> values, std::vector<std::int64_t> shape) override;
  void upload(std::span<const float> src, Tensor& dst) override;
  void download(const Tensor& src, std::span<float> dst) override;
  void embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) override;
  void rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override;
  void layernorm(const Tensor& x, const Tensor& w, const Tensor* bias, float eps, Tensor& out) override;
  void add(Tensor& acc, const Tensor& x) override;
  void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) override;
  void rope_batch(Tensor& x, std::int64_t batch, std::int64_t heads, std::int64_t head_dim, const Tensor& cos,
                  const Tensor& sin) override;
  void rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
            std::int64_t pos0) override;
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape, Tensor& out) override;
  void attention_decode_step(Tensor& q, Tensor& k, const Tensor& v, std::span<const KvDecodeSlot> slots, const AttentionShape& shape,
                             Tensor& out) override;
  void attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape, std::int64_t batch,
                       Tensor& out) override;
  void copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) override;
  void glu(const Tensor& gate, const Tensor& up, Activation f, Tensor& out) override;
  using Backend::token_logprobs;
  void token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets, std::span<double> logprobs,
                      std::span<std::uint8_t> greedy, float softcap) override;

  // Linear attention and BitNet (cuda_backend_linear.cpp): the batched convolution, head norms and gated RMSNorm
  // read and write F32 or BF16; the other ops compute on float32 (bf16 inputs converted). The chunked delta rule runs
  // on tensor cores (bf16 q/k/v/out, fp32 state) in bf16 mode.
  void token_argmax(const Tensor& x, const Tensor& w, float softcap, std::span<std::int32_t> next) override;
  // On the device; `base` may be another CUDA backend's (finished) memory: only four numbers per row come back.
  void compare_logits(const Tensor& base, const Tensor& model, std::span<const std::int32_t> targets,
                      std::span<LogitsComparison> out) override;
  void finish() override;
  void activate(Tensor& x, Activation f) override;
  void softcap(Tensor& x, float cap) override;
  void scale(Tensor& x, float s) override;
  void fill(Tensor& x, float value) override;
  void causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) override;
  void l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) override;
  void sum_normalize_heads(Tensor& x, std::int64_t head_dim) override;
  void decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) override;
  void rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) override;
  void rmsnorm_of_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) override;
  void delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                            const DeltaRuleShape& shape, Tensor& state, Tensor& out) override;
  void delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                          const DeltaRuleShape& shape, std::int64_t chunk_size, Tensor& state, Tensor& out) override;
  void causal_conv1d_batch(const Tensor& x, const Tensor& w, const Tensor* bias, std::int64_t batch, bool silu,
                           Tensor& out) override;
  void causal_conv1d_step_batch(const Tensor& x, const Tensor& w, std::span<Tensor* const> states, bool silu, Tensor& out) override;
  void delta_rule_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                             const DeltaRuleShape& shape, std::span<Tensor* const> states, Tensor& out) override;
  void delta_rule_chunked_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                const DeltaRuleShape& shape, std::int64_t chunk_size, std::int64_t batch,
                                Tensor& out) override;
  // Gated linear attention and state-space ops, the bias add and the ternary weight quantiser
  // (cuda_backend_ssm.cpp): one launch per call, per batch of sequences and per decoding step of up to 32 sequences.
  void add_bias(Tensor& x, const Tensor& bias) override;
  void gated_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                              const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                              Tensor& out) override;
  void gated_linear_attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                    const LinearAttentionShape& shape, std::int64_t chunk_size, std::int64_t batch,
                                    Tensor& out) override;
  void gated_linear_attention_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                         const LinearAttentionShape& shape, std::span<Tensor* const> states,
                                         Tensor& out) override;
  void selective_scan(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                      const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) override;
  void selective_scan_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                            const Tensor& D, std::int64_t chunk_size, std::int64_t batch, Tensor& out) override;
  void selective_scan_step_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                 const Tensor& C, const Tensor& D, std::span<Tensor* const> states, Tensor& out) override;
  void selective_scan_gated(const Tensor& x, const Tensor& delta, const Tensor& delta_bias, const Tensor& A_log,
                            const Tensor& B, const Tensor& C, const Tensor& D, const Tensor& z, std::int64_t chunk_size,
                            std::int64_t batch, Tensor& states, Tensor& out) override;
  void ssd(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
           const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state, Tensor& out) override;
  void ssd_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
                 const LinearAttentionShape& shape, std::int64_t chunk_size, std::int64_t batch, Tensor& out) override;
  void ssd_step_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                      const Tensor& D, const LinearAttentionShape& shape, std::span<Tensor* const> states,
                      Tensor& out) override;
  void add_bias_silu(Tensor& x, const Tensor& bias) override;
  void forget_gate(Tensor& f, const Tensor* lower_bound, Tensor& k) override;
  void quantize_activations_int8(Tensor& x, bool half_to_even = false) override;
  Tensor quantize_weight_ternary(const Tensor& w, float* scale) override;
  void bitlinear(Tensor& x, const Tensor& ternary, float weight_scale, const Tensor* bias, bool half_to_even, Tensor& out) override;
  void normed_bitlinear(const Tensor& x, const Tensor& input_norm, float eps, const Tensor& ternary, float weight_scale,
                        const Tensor* bias, bool half_to_even, Tensor& out) override;

 private:
  // Host fallback plumbing: a float32 host copy of a device tensor, and the way back.
  cudaStream_t stream() const;
  void rope_rows(const char* op, Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                 std::int64_t pos0, std::int64_t period);
  Tensor to_host(const Tensor& device);
  void delta_rule_chunked_tensor_cores(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                       const Tensor* g, const DeltaRuleShape& shape, std::int64_t batch, Tensor& state,
                                       Tensor& out);
  bool decode_kernel_applies(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const AttentionShape& s) const;
  cuda::AttentionDecodeArgs decode_args(const Tensor& q, Tensor& out, const AttentionShape& s, int n, std::int64_t longest_range,
                                        Tensor& workspace);
  // The delta-rule kernel's float32 operands: q, k, v, beta and g converted where they are not float32, and the
  // output buffer (out itself when it is float32; else store_delta_rule_output copies it back).
  struct DeltaRuleF32 {
    Tensor q, k, v, beta, g, out;
  };
  DeltaRuleF32 delta_rule_f32_operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                       const Tensor& out);
  void store_delta_rule_output(const DeltaRuleF32& f, Tensor& out);
  // The one-sequence launches behind the scoring, batched and decoding-step forms: `state` for one sequence or a
  // batch (state [batch · heads, ...]), null for a decoding step over `states`.
  void gated_linear_attention_launch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                     const LinearAttentionShape& s, std::int64_t batch, Tensor* state,
                                     std::span<Tensor* const> states, Tensor& out);
  // Both BitLinear forms: quantise x (after its RMSNorm when norm is not null) in one pass, the exact integer
  // product, rows scaled back.
  void bitlinear_of(const Tensor& x, const Tensor* norm, float eps, const Tensor& ternary, float weight_scale,
                    const Tensor* bias, bool half_to_even, Tensor& out);
  // Whether ternary weights of this width are kept as int8 for an int8 product (bf16 mode).
  bool bitlinear_in_int8(std::int64_t in_features) const;
  void selective_scan_launch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                             const Tensor& D, std::int64_t batch, Tensor* state, std::span<Tensor* const> states, Tensor& out);
  void ssd_launch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
                  const LinearAttentionShape& s, std::int64_t batch, Tensor* state, std::span<Tensor* const> states,
                  Tensor& out);
  // The chunked tensor-core form of GLA / RetNet / HGRN2 / SSD (kernels/linear_attention_chunked.cu) for scoring in
  // bf16 mode: applies to head dims the kernel covers and sequences of at least two tokens (fp32 mode keeps the
  // token-by-token kernel, the verification path). `a` carries the decay operands; the dims come from the shape and
  // batch, and q, k, v, state and out are put in the kernel's form here (bf16, 16-byte aligned; fp32 state) and the
  // results copied back where needed.
  bool linear_attention_chunked_applies(std::int64_t dk, std::int64_t dv, std::int64_t T) const;
  void linear_attention_chunked_launch(cuda::LinearAttentionChunkedArgs a, const LinearAttentionShape& s, std::int64_t batch,
                                       const Tensor& q, const Tensor& k, const Tensor& v, Tensor& state, Tensor& out);
  void gla_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const LinearAttentionShape& s,
                   std::int64_t batch, Tensor& state, Tensor& out);
  void ssd_chunked(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
                   const LinearAttentionShape& s, std::int64_t batch, Tensor& state, Tensor& out);
  // Shapes no kernel covers (cuda_host_fallback.cpp): the CPU reference on host copies, and a one-time notice on
  // stderr naming the op (note_host_fallback).
  static void note_host_fallback(const char* op, const std::string& why);
  void gated_linear_attention_on_host(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                      const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out);
  void selective_scan_on_host(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                              const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out);
  void ssd_on_host(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
                   const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out);
  void delta_rule_on_host(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                          const DeltaRuleShape& shape, Tensor& state, Tensor& out);
  // Runs f on a float32 version of x (x itself, or a converted copy that is converted back afterwards).
  template <typename F>
  void on_f32(Tensor& x, F&& f);
  void to_device(const Tensor& host, Tensor& device);
  // t itself when it has dtype d, else a converted copy.
  Tensor as_dtype(const Tensor& t, DType d);
  // t itself when it is BF16 and 16-byte aligned (what cp.async needs), else a BF16 copy.
  Tensor as_aligned_bf16(const Tensor& t);
  // A device copy of host int32 values, through pinned staging (no stream synchronisation).
  Tensor stage_i32(std::span<const std::int32_t> values);
  // The LM head over the vocabulary in chunks, each folded into the per-row max / sum / argmax / target state.
  void fold_vocabulary(const Tensor& x, const Tensor& w, const Tensor& dev_targets, float softcap,
                       const cuda::VocabScoreState& state);
  // out [T, ldd] (first N columns) = x [T, K] · w [N, K]ᵀ through cuBLASLt: w and x BF16 with an F32 or BF16 out, or
  // w and x I8 with an I32 out (out_dtype then unused).
  void gemm_lt(const Tensor& w, std::int64_t w_row0, std::int64_t N, const Tensor& x, void* out, DType out_dtype,
               std::int64_t ldd);
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace lmscope
