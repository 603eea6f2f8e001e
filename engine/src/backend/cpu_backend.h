// The float32 CPU backend: the readable reference implementation of every op (matmuls through OpenBLAS,
// loops elsewhere, OpenMP across rows and heads).
#pragma once

#include "backend/backend.h"

namespace lmscope {

class CpuBackend final : public Backend {
 public:
  // Once per process: OpenBLAS's best kernels for this CPU (backend/openblas_core.h) and a thread count from the
  // processors the load leaves idle (backend/cpu_threads.h).
  CpuBackend();
  std::string name() const override { return "cpu"; }
  Tensor alloc(DType dtype, std::vector<std::int64_t> shape) override;
  Tensor weight(const TensorView& w) override;
  void upload(std::span<const float> src, Tensor& dst) override;
  void download(const Tensor& src, std::span<float> dst) override;
  void embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) override;
  void rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override;
  void layernorm(const Tensor& x, const Tensor& w, const Tensor* bias, float eps, Tensor& out) override;
  void add(Tensor& acc, const Tensor& x) override;
  void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) override;
  void rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
            std::int64_t pos0) override;
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape, Tensor& out) override;
  void copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) override;
  void glu(const Tensor& gate, const Tensor& up, Activation f, Tensor& out) override;
  using Backend::token_logprobs;
  void token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets, std::span<double> logprobs,
                      std::span<std::uint8_t> greedy, float softcap) override;
  void token_argmax(const Tensor& x, const Tensor& w, float softcap, std::span<std::int32_t> next) override;
  void activate(Tensor& x, Activation f) override;
  void softcap(Tensor& x, float cap) override;
  void scale(Tensor& x, float s) override;
  void fill(Tensor& x, float value) override;

  // cpu_backend_linear.cpp
  void causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) override;
  void l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) override;
  void sum_normalize_heads(Tensor& x, std::int64_t head_dim) override;
  void decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) override;
  void rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) override;
  void delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                            const DeltaRuleShape& shape, Tensor& state, Tensor& out) override;
  void delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                          const DeltaRuleShape& shape, std::int64_t chunk_size, Tensor& state, Tensor& out) override;

  // cpu_backend_ssm.cpp
  void add_bias(Tensor& x, const Tensor& bias) override;
  void gated_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                              const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                              Tensor& out) override;
  void selective_scan(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                      const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) override;
  void selective_scan_gated(const Tensor& x, const Tensor& delta, const Tensor& delta_bias, const Tensor& A_log,
                            const Tensor& B, const Tensor& C, const Tensor& D, const Tensor& z, std::int64_t chunk_size,
                            std::int64_t batch, Tensor& states, Tensor& out) override;
  void ssd(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
           const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state, Tensor& out) override;
  void forget_gate(Tensor& f, const Tensor* lower_bound, Tensor& k) override;

  // cpu_backend_quant.cpp
  void quantize_activations_int8(Tensor& x, bool half_to_even = false) override;
  Tensor quantize_weight_ternary(const Tensor& w, float* scale) override;
};

}  // namespace lmscope
