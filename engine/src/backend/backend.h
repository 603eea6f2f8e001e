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
#include "lmscope/model.h"
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
  float softcap = 0.0f;      // > 0: each score s = scale·q·k becomes softcap·tanh(s / softcap) (Gemma 2); 0: none
};

// One sequence's row in a batched attention decoding step (Backend::attention_decode_step): its new key and value
// go to row write_row of k_cache / v_cache ([rows, num_kv_heads * head_dim], the activation dtype), and its query
// attends to cache rows [0, kv_len), all of them (a sliding window's ring holds only keys the query sees). q and k
// are rotated with row `pos` of cos / sin ([positions, rotary_dim / 2]; both null: no RoPE).
struct KvDecodeSlot {
  Tensor* k_cache = nullptr;
  Tensor* v_cache = nullptr;
  std::int64_t write_row = 0, kv_len = 0, pos = 0;
  const Tensor* cos = nullptr;
  const Tensor* sin = nullptr;
};

// GeluTanh is gelu's tanh approximation (gelu_pytorch_tanh), Gelu the exact erf form, ReluSquared max(x, 0)².
enum class Activation { Silu, Sigmoid, Relu, EluPlusOne, Softplus, LogSigmoid, GeluTanh, Gelu, ReluSquared };

// The (gated) delta rule of DeltaNet / Gated DeltaNet, per value head hv with state S [head_k_dim, head_v_dim]:
//   S ← exp(g_t)·S;  u_t = β_t (v_t − Sᵀk_t);  S ← S + k_t u_tᵀ;  o_t = Sᵀ(scale · q_t)
// Value head hv reads query/key head hv / (num_v_heads / num_heads) (fla's grouped value heads).
struct DeltaRuleShape {
  std::int64_t num_heads = 0;    // query/key heads
  std::int64_t num_v_heads = 0;  // value heads = state heads; a multiple of num_heads
  std::int64_t head_k_dim = 0;
  std::int64_t head_v_dim = 0;
  float scale = 1.0f;  // multiplies q
};

// Gated linear attention (GLA, RetNet, HGRN2, and Mamba2's SSD underneath) has the same head layout.
using LinearAttentionShape = DeltaRuleShape;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // What activations between ops are stored in: F32 (CPU, CUDA fp32 mode) or BF16 (CUDA's default). Models keep
  // the residual stream in F32 and allocate the other activations in this type; every op accepts either.
  virtual DType activation_dtype() const { return DType::F32; }
  // Peak device memory in bytes since the last reset (weights included), or -1 where the backend does not track it.
  virtual std::int64_t peak_memory_bytes() const { return -1; }
  virtual void reset_peak_memory() {}

  // Uninitialised tensor in the backend's memory.
  virtual Tensor alloc(DType dtype, std::vector<std::int64_t> shape) = 0;
  // A stored weight in the backend's compute type (converted from F16/BF16 as needed).
  virtual Tensor weight(const TensorView& w) = 0;
  // A weight made at load from float32 host values (unpacked or transformed stored weights), stored as weight()
  // would store it.
  virtual Tensor weight_from_host(std::span<const float> values, std::vector<std::int64_t> shape) {
    Tensor t = alloc(DType::F32, std::move(shape));
    upload(values, t);
    return t;
  }
  virtual void upload(std::span<const float> src, Tensor& dst) = 0;
  virtual void download(const Tensor& src, std::span<float> dst) = 0;

  // out[i, :] = table[ids[i], :]
  virtual void embed(const Tensor& table, std::span<const std::int32_t> ids, Tensor& out) = 0;
  // out = x / sqrt(mean(x^2) + eps) * w, per row
  virtual void rmsnorm(const Tensor& x, const Tensor& w, float eps, Tensor& out) = 0;
  // out = (x - mean(x)) / sqrt(var(x) + eps) * w (+ bias), per row (the biased variance, as torch's LayerNorm).
  virtual void layernorm(const Tensor& x, const Tensor& w, const Tensor* bias, float eps, Tensor& out) = 0;
  // acc += x
  virtual void add(Tensor& acc, const Tensor& x) = 0;
  // The pre-norm residual step: x += r, then out = rmsnorm(x) · w. Backends may fuse it into one pass.
  virtual void add_rmsnorm(Tensor& x, const Tensor& r, const Tensor& w, float eps, Tensor& out) {
    add(x, r);
    rmsnorm(x, w, eps, out);
  }
  // The same with a LayerNorm (GPT-NeoX).
  virtual void add_layernorm(Tensor& x, const Tensor& r, const Tensor& w, const Tensor* bias, float eps, Tensor& out) {
    add(x, r);
    layernorm(x, w, bias, eps, out);
  }
  // out = x · wᵀ (+ bias): x [T, K], w [N, K] (the Hugging Face layout), out [T, N]
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out) = 0;
  // Rotates x [T, heads * head_dim] in place, "rotate half" convention on the first 2 * cos.cols() dims of each
  // head; row i uses table row pos0 + i of cos/sin [positions, rotary_dim / 2] (attention factor folded in).
  virtual void rope(Tensor& x, std::int64_t heads, std::int64_t head_dim, const Tensor& cos, const Tensor& sin,
                    std::int64_t pos0) = 0;
  // The same for `batch` sequences of x.rows() / batch tokens one after another, each at positions 0.. (batched
  // scoring). The default rotates sequence by sequence; the CUDA backend in one launch.
  virtual void rope_batch(Tensor& x, std::int64_t batch, std::int64_t heads, std::int64_t head_dim, const Tensor& cos,
                          const Tensor& sin) {
    const std::int64_t T = x.rows() / batch;
    for (std::int64_t s = 0; s < batch; ++s) {
      Tensor xs = x.slice_rows(s * T, T);
      rope(xs, heads, head_dim, cos, sin, 0);
    }
  }
  // Causal softmax attention. q [Tq, num_heads * head_dim]; k, v [capacity, num_kv_heads * head_dim] with rows
  // [0, kv_len) valid; out [Tq, num_heads * head_dim].
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape,
                         Tensor& out) = 0;
  // Attention of `batch` independent sequences in one call: q and out hold batch blocks of q.rows() / batch rows,
  // k and v batch blocks of k.rows() / batch rows; `shape` applies to each block. The default runs attention() on
  // each block; backends may launch all blocks together.
  virtual void attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionShape& shape,
                               std::int64_t batch, Tensor& out) {
    const std::int64_t tq = q.rows() / batch, tk = k.rows() / batch;
    for (std::int64_t b = 0; b < batch; ++b) {
      Tensor o = out.slice_rows(b * tq, tq);
      attention(q.slice_rows(b * tq, tq), k.slice_rows(b * tk, tk), v.slice_rows(b * tk, tk), shape, o);
    }
  }
  // One decoding step of softmax attention for n sequences: row i of q, k, v [n, heads * head_dim] is sequence i's
  // new token (slots[i]); q's rows are rotated in place, k's rotated rows and v's rows are written into the caches,
  // and out [n, num_heads * head_dim] row i is the attention of q's row i over its cache (shape's heads, head_dim,
  // scale and softcap apply; its positions and window are ignored). k may be changed. The default runs each row
  // through rope, copy_rows and attention; the CUDA backend does it in three launches for all rows.
  virtual void attention_decode_step(Tensor& q, Tensor& k, const Tensor& v, std::span<const KvDecodeSlot> slots,
                                     const AttentionShape& shape, Tensor& out) {
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      const KvDecodeSlot& s = slots[i];
      Tensor qi = q.slice_rows(r, 1), ki = k.slice_rows(r, 1), oi = out.slice_rows(r, 1);
      if (s.cos) {
        rope(qi, shape.num_heads, shape.head_dim, *s.cos, *s.sin, s.pos);
        rope(ki, shape.num_kv_heads, shape.head_dim, *s.cos, *s.sin, s.pos);
      }
      copy_rows(ki, *s.k_cache, s.write_row);
      copy_rows(v.slice_rows(r, 1), *s.v_cache, s.write_row);
      AttentionShape a = shape;
      a.q_pos0 = s.kv_len - 1;
      a.kv_len = s.kv_len;
      a.window = 0;
      attention(qi, *s.k_cache, *s.v_cache, a, oi);
    }
  }
  // dst rows [dst_row, dst_row + src.rows()) = src
  virtual void copy_rows(const Tensor& src, Tensor& dst, std::int64_t dst_row) = 0;
  // out = f(gate) * up, elementwise (a gated linear unit: SwiGLU with Silu, GeGLU with GeluTanh). out may be gate or up.
  virtual void glu(const Tensor& gate, const Tensor& up, Activation f, Tensor& out) = 0;
  void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) { glu(gate, up, Activation::Silu, out); }
  // Fused LM head + log-softmax + gather: for each row t of x [T, H], with logits = x · wᵀ (w [V, H]),
  // logprobs[t] = log_softmax(logits[t])[targets[t]] and greedy[t] = (targets[t] is the first argmax), computed in
  // vocabulary chunks with an online log-sum-exp so [T, V] never exists. targets[t] < 0: logprobs 0, greedy 0.
  // softcap > 0: each logit z becomes softcap·tanh(z / softcap) first (Gemma 2's final soft-capping).
  virtual void token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets,
                              std::span<double> logprobs, std::span<std::uint8_t> greedy, float softcap) = 0;
  void token_logprobs(const Tensor& x, const Tensor& w, std::span<const std::int32_t> targets, std::span<double> logprobs,
                      std::span<std::uint8_t> greedy) {
    token_logprobs(x, w, targets, logprobs, greedy, 0.0f);
  }
  // Greedy decoding's LM head: for each row t of x [T, H], next[t] = the first index of the largest logit
  // (softcap as token_logprobs), computed in vocabulary chunks; only the ids leave the device.
  virtual void token_argmax(const Tensor& x, const Tensor& w, float softcap, std::span<std::int32_t> next) = 0;
  // Row r of two float32 logits tensors [R, V] compared (LogitsComparison, targets[r] < 0: no target). `base` may
  // belong to another backend of the same kind whose work has finished (finish()). Default: both rows to the host.
  virtual void compare_logits(const Tensor& base, const Tensor& model, std::span<const std::int32_t> targets,
                              std::span<LogitsComparison> out);
  // Returns when every op queued so far has completed (another backend reads this one's memory next).
  virtual void finish() {}

  // --- elementwise ---
  // x = f(x): silu x·σ(x), sigmoid σ(x), relu max(x, 0), elu+1 (x > 0 ? x + 1 : exp(x)), softplus log(1 + eˣ)
  // (x above 20 as torch), logsigmoid log σ(x), gelu (tanh form or exact), relu².
  virtual void activate(Tensor& x, Activation f) = 0;
  // x = cap · tanh(x / cap) (logit soft-capping)
  virtual void softcap(Tensor& x, float cap) = 0;
  // x *= s
  virtual void scale(Tensor& x, float s) = 0;
  // x = value everywhere
  virtual void fill(Tensor& x, float value) = 0;
  // x[t, :] += bias for every row t (bias [C], x [T, C]).
  virtual void add_bias(Tensor& x, const Tensor& bias) = 0;
  // x = silu(x + bias) (the convolution bias and activation of the Mamba mixers; the CUDA backend does it in one pass).
  virtual void add_bias_silu(Tensor& x, const Tensor& bias) {
    add_bias(x, bias);
    activate(x, Activation::Silu);
  }

  // --- linear attention (DeltaNet, Gated DeltaNet) ---
  // Causal depthwise convolution over time, carrying its input history so that a sequence fed in pieces gives what
  // it gives whole: with x̃ = [state; x] (state [K-1, C]: the K-1 inputs before x, zeros at the start),
  // out[t, c] = Σ_j w[c, j] · x̃[t + j, c] for w [C, K], then SiLU when silu. state becomes the last K-1 rows of x̃.
  // x, out [T, C] (distinct tensors).
  virtual void causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) = 0;
  // Each group of head_dim values of every row: x / sqrt(Σx² + eps) (fla's l2norm; eps inside the root).
  virtual void l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) = 0;
  // Each group of head_dim values of every row: x / Σx (fla's qk_norm "sum").
  virtual void sum_normalize_heads(Tensor& x, std::int64_t head_dim) = 0;
  // Gated DeltaNet's decay in log space, in place: a [T, H] becomes g = −exp(A_log[h]) · softplus(a + dt_bias[h])
  // (softplus(z) = z above 20, as fla's kernel).
  virtual void decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) = 0;
  // out = x / sqrt(mean(x²) + eps) · w · silu(gate), per row: fla's FusedRMSNormGated. x, gate, out [R, C]; w [C].
  virtual void rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) = 0;
  // The gate first (Mamba2's norm_before_gate=False): y = x · silu(gate), out = y / sqrt(mean(y²) + eps) · w. The
  // default writes y out (rounded to x's type) and norms it; the CUDA backend does both in one pass, unrounded.
  virtual void rmsnorm_of_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) {
    Tensor y = alloc(x.dtype, x.shape);
    glu(gate, x, Activation::Silu, y);
    rmsnorm(y, w, eps, out);
  }
  // The delta rule token by token (the recurrent form; decoding). q, k [T, num_heads * head_k_dim] (normalised),
  // v [T, num_v_heads * head_v_dim], beta [T, num_v_heads], g [T, num_v_heads] log decay or nullptr (none),
  // state [num_v_heads, head_k_dim, head_v_dim] updated in place, out [T, num_v_heads * head_v_dim].
  virtual void delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                    const Tensor* g, const DeltaRuleShape& shape, Tensor& state, Tensor& out) = 0;
  // The same result in the chunked (WY / UT-transform) form for scoring many tokens: within chunks of chunk_size
  // tokens the updates are solved as one triangular system, and the state is carried between chunks.
  virtual void delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                  const Tensor* g, const DeltaRuleShape& shape, std::int64_t chunk_size,
                                  Tensor& state, Tensor& out) = 0;
  // Batched scoring from empty states: the rows hold `batch` sequences of T tokens one after another (x, out
  // [batch × T, C]; q, k, v, beta, g, out likewise), each starting from zero history / a zero state. The defaults
  // run each sequence through the one-sequence op; backends with a batched kernel override them.
  // causal_conv1d_batch takes the convolution's bias (or nullptr), added before the SiLU (the Mamba mixers').
  virtual void causal_conv1d_batch(const Tensor& x, const Tensor& w, const Tensor* bias, std::int64_t batch, bool silu,
                                   Tensor& out) {
    const std::int64_t T = x.rows() / batch;
    Tensor state = alloc(DType::F32, {w.cols() - 1, x.cols()});
    for (std::int64_t s = 0; s < batch; ++s) {
      fill(state, 0.0f);
      Tensor os = out.slice_rows(s * T, T);
      causal_conv1d(x.slice_rows(s * T, T), w, state, silu && !bias, os);
    }
    if (bias && silu)
      add_bias_silu(out, *bias);
    else if (bias)
      add_bias(out, *bias);
  }
  // One decoding step of n sequences: row i of x / q, k, v, beta, g, out continues the sequence whose history is
  // states[i] (the one-sequence ops with T = 1 each). The defaults run each row through the one-sequence op;
  // backends with a kernel over all rows override them.
  virtual void causal_conv1d_step_batch(const Tensor& x, const Tensor& w, std::span<Tensor* const> states, bool silu,
                                        Tensor& out) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor o = out.slice_rows(r, 1);
      causal_conv1d(x.slice_rows(r, 1), w, *states[i], silu, o);
    }
  }
  virtual void delta_rule_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                     const Tensor* g, const DeltaRuleShape& shape, std::span<Tensor* const> states,
                                     Tensor& out) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor gi, o = out.slice_rows(r, 1);
      if (g) gi = g->slice_rows(r, 1);
      delta_rule_recurrent(q.slice_rows(r, 1), k.slice_rows(r, 1), v.slice_rows(r, 1), beta.slice_rows(r, 1),
                           g ? &gi : nullptr, shape, *states[i], o);
    }
  }
  virtual void delta_rule_chunked_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                        const Tensor* g, const DeltaRuleShape& shape, std::int64_t chunk_size,
                                        std::int64_t batch, Tensor& out) {
    const std::int64_t T = q.rows() / batch;
    Tensor state = alloc(DType::F32, {shape.num_v_heads, shape.head_k_dim, shape.head_v_dim});
    for (std::int64_t s = 0; s < batch; ++s) {
      fill(state, 0.0f);
      Tensor gs, os = out.slice_rows(s * T, T);
      if (g) gs = g->slice_rows(s * T, T);
      delta_rule_chunked(q.slice_rows(s * T, T), k.slice_rows(s * T, T), v.slice_rows(s * T, T),
                         beta.slice_rows(s * T, T), g ? &gs : nullptr, shape, chunk_size, state, os);
    }
  }

  // --- gated linear attention and state-space models (cpu_backend_ssm.cpp) ---
  // All run S ← diag(exp(g_t)) S + k_t v_tᵀ, o_t = Sᵀ(scale · q_t) per value head with state [head_k_dim, head_v_dim];
  // value head hv reads query/key head hv / (num_v_heads / num_heads). chunk_size > 0 asks for the chunked form
  // (within a chunk the decays are cumulative sums and the work is pairwise products; the state is carried between
  // chunks), for scoring many tokens; chunk_size == 0: token by token (the recurrent form, decoding). Both give the
  // same result; the CPU backend runs the recurrence for both (fewer operations there, cpu_backend_ssm.cpp).
  //
  // GLA / RetNet / HGRN2. q, k [T, num_heads * head_k_dim], v [T, num_v_heads * head_v_dim]; g is the log decay:
  // [Tg, num_v_heads * head_k_dim] (one per key channel: GLA, HGRN2) or [Tg, num_v_heads] (one per head: RetNet),
  // where Tg is T, or 1 for a decay that is the same at every token. state [num_v_heads, head_k_dim, head_v_dim],
  // out [T, num_v_heads * head_v_dim].
  virtual void gated_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                      const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                                      Tensor& out) = 0;
  // Mamba's selective scan, per channel d of x [T, Dn] with state h [N] (state [Dn, N]):
  //   h ← exp(Δ_t,d · A_d) ⊙ h + Δ_t,d · x_t,d · B_t;  y_t,d = C_t · h + D_d · x_t,d,   A = −exp(A_log)
  // delta [T, Dn] (already through softplus), A_log [Dn, N], B, C [T, N], D [Dn], out [T, Dn].
  virtual void selective_scan(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                              const Tensor& C, const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) = 0;
  // Mamba2's SSD: per head h (num_v_heads of head_v_dim = P channels) in group h / (heads / groups), state [N, P]:
  //   S ← exp(dt_t,h · A_h) S + B_t (dt_t,h · x_t,h)ᵀ;  y_t,h = Sᵀ C_t + D · x_t,h,   A = −exp(A_log)
  // x [T, heads · P], dt [T, heads] (after softplus), A_log [heads], B, C [T, groups · N], D [heads] or [heads · P];
  // shape: num_heads = groups, num_v_heads = heads, head_k_dim = N, head_v_dim = P, scale = 1.
  // state [heads, N, P], out [T, heads · P].
  virtual void ssd(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                   const Tensor& D, const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                   Tensor& out) = 0;
  // Batched scoring from empty states (`batch` sequences of T rows one after another in every row operand, as
  // delta_rule_chunked_batch; g of GLA keeps its one row when it has one) and decoding steps of n sequences (row i
  // of every row operand continues states[i], a state of the one-sequence op's shape). The defaults run each
  // sequence / row through the one-sequence op; the CUDA backend launches once for all of them.
  virtual void gated_linear_attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                            const LinearAttentionShape& shape, std::int64_t chunk_size, std::int64_t batch,
                                            Tensor& out) {
    const std::int64_t T = q.rows() / batch;
    Tensor state = alloc(DType::F32, {shape.num_v_heads, shape.head_k_dim, shape.head_v_dim});
    for (std::int64_t s = 0; s < batch; ++s) {
      fill(state, 0.0f);
      Tensor os = out.slice_rows(s * T, T);
      const Tensor gs = g.rows() == 1 ? g : g.slice_rows(s * T, T);
      gated_linear_attention(q.slice_rows(s * T, T), k.slice_rows(s * T, T), v.slice_rows(s * T, T), gs, shape, chunk_size,
                             state, os);
    }
  }
  virtual void gated_linear_attention_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                                 const LinearAttentionShape& shape, std::span<Tensor* const> states,
                                                 Tensor& out) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor o = out.slice_rows(r, 1);
      gated_linear_attention(q.slice_rows(r, 1), k.slice_rows(r, 1), v.slice_rows(r, 1), g.rows() == 1 ? g : g.slice_rows(r, 1),
                             shape, 0, *states[i], o);
    }
  }
  virtual void selective_scan_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                    const Tensor& C, const Tensor& D, std::int64_t chunk_size, std::int64_t batch,
                                    Tensor& out) {
    const std::int64_t T = x.rows() / batch;
    Tensor state = alloc(DType::F32, {x.cols(), A_log.cols()});
    for (std::int64_t s = 0; s < batch; ++s) {
      fill(state, 0.0f);
      Tensor os = out.slice_rows(s * T, T);
      selective_scan(x.slice_rows(s * T, T), delta.slice_rows(s * T, T), A_log, B.slice_rows(s * T, T),
                     C.slice_rows(s * T, T), D, chunk_size, state, os);
    }
  }
  virtual void selective_scan_step_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                         const Tensor& C, const Tensor& D, std::span<Tensor* const> states, Tensor& out) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor o = out.slice_rows(r, 1);
      selective_scan(x.slice_rows(r, 1), delta.slice_rows(r, 1), A_log, B.slice_rows(r, 1), C.slice_rows(r, 1), D, 0,
                     *states[i], o);
    }
  }
  // Mamba's mixer core for whole sequences, with its step size and output gate as mamba-ssm's scan fuses them:
  // Δ = softplus(delta + delta_bias) (delta [rows, Dn] before the bias, delta_bias [Dn]), the scan above over `batch`
  // sequences of rows / batch tokens, each from its state (states [batch · Dn, N] float32: zeros to score from the
  // start), which it leaves at the end, and out = (C_t · h + D·x) · silu(z) (z [rows, Dn]). The default composes the
  // ops above; the CUDA backend runs it as one kernel.
  virtual void selective_scan_gated(const Tensor& x, const Tensor& delta, const Tensor& delta_bias, const Tensor& A_log,
                                    const Tensor& B, const Tensor& C, const Tensor& D, const Tensor& z,
                                    std::int64_t chunk_size, std::int64_t batch, Tensor& states, Tensor& out) {
    const std::int64_t T = x.rows() / batch, Dn = x.cols();
    Tensor dt = alloc(delta.dtype, delta.shape);
    copy_rows(delta, dt, 0);
    add_bias(dt, delta_bias);
    activate(dt, Activation::Softplus);
    Tensor y = alloc(out.dtype, out.shape);
    for (std::int64_t s = 0; s < batch; ++s) {
      Tensor st = states.slice_rows(s * Dn, Dn), ys = y.slice_rows(s * T, T);
      selective_scan(x.slice_rows(s * T, T), dt.slice_rows(s * T, T), A_log, B.slice_rows(s * T, T),
                     C.slice_rows(s * T, T), D, chunk_size, st, ys);
    }
    swiglu(z, y, out);
  }
  virtual void ssd_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                         const Tensor& D, const LinearAttentionShape& shape, std::int64_t chunk_size, std::int64_t batch,
                         Tensor& out) {
    const std::int64_t T = x.rows() / batch;
    Tensor state = alloc(DType::F32, {shape.num_v_heads, shape.head_k_dim, shape.head_v_dim});
    for (std::int64_t s = 0; s < batch; ++s) {
      fill(state, 0.0f);
      Tensor os = out.slice_rows(s * T, T);
      ssd(x.slice_rows(s * T, T), dt.slice_rows(s * T, T), A_log, B.slice_rows(s * T, T), C.slice_rows(s * T, T), D, shape,
          chunk_size, state, os);
    }
  }
  virtual void ssd_step_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                              const Tensor& D, const LinearAttentionShape& shape, std::span<Tensor* const> states,
                              Tensor& out) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto r = static_cast<std::int64_t>(i);
      Tensor o = out.slice_rows(r, 1);
      ssd(x.slice_rows(r, 1), dt.slice_rows(r, 1), A_log, B.slice_rows(r, 1), C.slice_rows(r, 1), D, shape, 0, *states[i], o);
    }
  }
  // HGRN2's forget gate, in place: f becomes g = log(lb + (1 − lb) · σ(f)) (lb [C] the layer's lower bound, or
  // none: logsigmoid(f)), and k = 1 − exp(g). f, k [T, C].
  virtual void forget_gate(Tensor& f, const Tensor* lower_bound, Tensor& k) = 0;

  // --- BitNet b1.58 (fla's BitLinear) ---
  // Per row: s = 127 / max(max|x|, 1e-5); x = clamp(round(x·s), −128, 127) / s, rounding halves away from zero
  // (fla's Triton kernel) or, with half_to_even, to even (torch.round: transformers' BitNet).
  virtual void quantize_activations_int8(Tensor& x, bool half_to_even = false) = 0;
  // The whole matrix: s = 1 / max(mean|w|, 1e-5); returns the ternary values clamp(round(w·s), −1, 1) (halves to
  // even, torch.round) in w's shape and the type this backend multiplies them in, and *scale = 1/s: fla multiplies
  // with their product, which bitlinear() forms as product · scale.
  virtual Tensor quantize_weight_ternary(const Tensor& w, float* scale) = 0;
  // BitNet's product: out = quant8(x) · Tᵀ · weight_scale (+ bias [N]), quant8 as quantize_activations_int8, T [N, in]
  // ternary. x is overwritten. Both factors are small integers times a scale, so a backend may form the integer
  // product exactly (any float format with float32 accumulation: |Σ q·t| ≤ 128·in < 2^24) and scale it afterwards.
  virtual void bitlinear(Tensor& x, const Tensor& ternary, float weight_scale, const Tensor* bias, bool half_to_even, Tensor& out) {
    quantize_activations_int8(x, half_to_even);
    if (weight_scale == 1.0f) {
      linear(x, ternary, bias, out);
      return;
    }
    linear(x, ternary, nullptr, out);  // the scale applies to the product, before the bias
    scale(out, weight_scale);
    if (bias) add_bias(out, *bias);
  }
  // A BitLinear with its own input RMSNorm (fla's BitLinear; transformers' with use_rms_norm): bitlinear() of
  // rmsnorm(x, input_norm, eps); x is left as it was. The CUDA backend normalises and quantises in one pass.
  virtual void normed_bitlinear(const Tensor& x, const Tensor& input_norm, float eps, const Tensor& ternary,
                                float weight_scale, const Tensor* bias, bool half_to_even, Tensor& out) {
    Tensor xn = alloc(x.dtype, x.shape);
    rmsnorm(x, input_norm, eps, xn);
    bitlinear(xn, ternary, weight_scale, bias, half_to_even, out);
  }
};

// "cpu" (always) or "cuda" (when built with LMSCOPE_CUDA and a device is present). BadInput otherwise.
// dtype: "" (the backend's default: fp32 on the CPU, bf16 on CUDA), "fp32" or "bf16" (CUDA only).
std::shared_ptr<Backend> make_backend(const std::string& name, const std::string& dtype = "");
std::vector<std::string> available_backends();

}  // namespace lmscope
