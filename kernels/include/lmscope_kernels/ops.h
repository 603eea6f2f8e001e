// Launchers for lmscope's CUDA kernels, on raw device pointers (row-major). All are asynchronous on `stream`;
// the caller checks errors with check_last_launch(). The engine's CUDA backend adapts these to its tensors.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
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
// out[t, :] += bias, then SiLU when silu is set (one pass)
void add_bias(void* out, Elem out_t, const float* bias, std::int64_t T, std::int64_t N, cudaStream_t stream, bool silu = false);
// out = f(gate) * up, elementwise (out may alias gate); f an activate() code: 0 silu, 6 gelu (tanh), 7 gelu (erf),
// 8 relu² (the gated ones the families use; others throw).
void glu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, int f, cudaStream_t stream);
inline void swiglu(const void* gate, const void* up, Elem in_t, void* out, Elem out_t, std::int64_t n, cudaStream_t stream) {
  glu(gate, up, in_t, out, out_t, n, 0, stream);
}
// out = (x - mean) / sqrt(var + eps) * w (+ b) per row of x [T, C]; w, b float32 (b may be null).
void layernorm(const void* x, Elem x_t, const float* w, const float* b, float eps, std::int64_t T, std::int64_t C, void* out,
               Elem out_t, cudaStream_t stream);
// Rotates x [T, heads * head_dim] in place ("rotate half"), row t with table row pos0 + t % period of cos/sin
// [P, half] (period T: one sequence; a sequence's length: a batch of them one after another).
void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, std::int64_t period, cudaStream_t stream);

// --- linear attention and BitNet (activation.cu, causal_conv1d.cu, head_norm.cu, decay_gate.cu, rmsnorm_gated.cu,
//     bitnet_quant.cu, delta_rule.cu, delta_rule_chunked.cu) ---
// x = f(x) with f: 0 silu, 1 sigmoid, 2 relu, 3 elu+1, 4 softplus, 5 log-sigmoid, 6 gelu (tanh form), 7 gelu (erf),
// 8 relu².
void activate(void* x, Elem t, std::int64_t n, int f, cudaStream_t stream);
// x = cap · tanh(x / cap)
void softcap(void* x, Elem t, std::int64_t n, float cap, cudaStream_t stream);
void scale(void* x, Elem t, std::int64_t n, float s, cudaStream_t stream);
void fill(void* x, Elem t, std::int64_t n, float value, cudaStream_t stream);
// out [T, C] = causal depthwise conv of [state; x] with w [C, K] (+ SiLU); next_state [K-1, C] = last K-1 rows of
// [state; x] (a buffer distinct from state).
void causal_conv1d_f32(const float* x, const float* w, const float* state, std::int64_t T, std::int64_t C, std::int64_t K, bool silu,
                       float* out, float* next_state, cudaStream_t stream);
// The same for `batch` sequences of T rows one after another in x, out [batch × T, C], each from zero history;
// bias [C] (or null) added before the SiLU.
void causal_conv1d_batch(const void* x, Elem x_t, const float* w, const float* bias, std::int64_t T, std::int64_t batch,
                         std::int64_t C, std::int64_t K, bool silu, void* out, Elem out_t, cudaStream_t stream);
// Each head_dim group of x [n]: l2: x / sqrt(Σx² + eps); else x / Σx.
void normalize_heads(void* x, Elem t, std::int64_t n, std::int64_t head_dim, float eps, bool l2, cudaStream_t stream);
// a [T, H] ← −exp(A_log[h]) · softplus(a + dt_bias[h])
void decay_gate_f32(float* a, const float* A_log, const float* dt_bias, std::int64_t T, std::int64_t H, cudaStream_t stream);
// out = x / sqrt(mean(x²) + eps) · w · silu(gate), rows of C
void rmsnorm_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                   std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
// The gate first (Mamba2): y = x · silu(gate), out = y / sqrt(mean(y²) + eps) · w, rows of C
void rmsnorm_of_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                      std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
// BitNet: per row s = 127 / max(max|x|, 1e-5); x = clamp(round(x·s), −128, 127) / s, halves away from zero (fla)
// or to even (half_to_even: torch.round, transformers' BitNet)
void quantize_activations_int8_f32(float* x, std::int64_t R, std::int64_t C, bool half_to_even, cudaStream_t stream);
// The same quantiser for the product's fast form: q [R, C] (of type q_t) = clamp(round(x·s), −128, 127), the
// integers themselves (exact in bf16), and inv_scale [R] = 1/s; x [R, C] of type x_t, first normalised per row by
// RMSNorm with weight `norm` [C] when that is not null (BitLinear's own norm, as rmsnorm computes it, in float32).
void quantize_activations_int8_rows(const void* x, Elem x_t, std::int64_t R, std::int64_t C, const float* norm, float eps,
                                    bool half_to_even, void* q, Elem q_t, float* inv_scale, cudaStream_t stream);
// The same with int8 integers, for an int8 product (tensor cores' integer path, twice the bf16 rate on Hopper).
void quantize_activations_int8_rows_i8(const void* x, Elem x_t, std::int64_t R, std::int64_t C, const float* norm, float eps,
                                       bool half_to_even, std::int8_t* q, float* inv_scale, cudaStream_t stream);
// out [R, C] = acc · inv_scale[r] · weight_scale (+ bias [C], of type bias_t, when not null): the integer product of
// quantised activations and ternary weights scaled back; acc float32, or int32 from the int8 product.
void scale_rows(const float* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t, std::int64_t R,
                std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
void scale_rows_i32(const std::int32_t* acc, const float* inv_scale, float weight_scale, const void* bias, Elem bias_t,
                    std::int64_t R, std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
// out = rint(x) as int8 (values that are integers in [−128, 127]: ternary weights).
void round_to_int8(const float* x, std::int64_t n, std::int8_t* out, cudaStream_t stream);

// Decoding steps of several sequences pass each sequence's pointers in the kernel's parameters (no upload before
// the launch), up to kMaxDecodeRows sequences per launch.
constexpr int kMaxDecodeRows = 32;
// Per-sequence float32 states of a decoding step (convolution histories, delta-rule states).
struct DecodeStates {
  int n = 0;
  float* p[kMaxDecodeRows];
};
// out [n, C] row i = causal depthwise conv of [states[i]; x row i] with w [C, K] (+ SiLU); states[i] [K-1, C]
// shifted in place to end with x's row.
void causal_conv1d_step_batch(const void* x, Elem x_t, const float* w, std::int64_t C, std::int64_t K, bool silu,
                              const DecodeStates& states, void* out, Elem out_t, cudaStream_t stream);

struct DeltaRuleArgs {
  const float *q, *k, *v, *beta, *g;  // g may be null (no decay)
  float *state, *out;
  std::int64_t T, H, HV, dk, dv;
  float scale;
};
bool delta_rule_supported(std::int64_t head_k_dim);
// The delta rule token by token (see delta_rule.cu); state [HV, dk, dv] updated in place.
void delta_rule_f32(const DeltaRuleArgs& a, cudaStream_t stream);
// A decoding step of states.n sequences, one token each: row i of q, k, v, beta, g, out (a.T = 1) continues
// states.p[i] ([HV, dk, dv]); a.state is unused.
void delta_rule_step_batch_f32(const DeltaRuleArgs& a, const DecodeStates& states, cudaStream_t stream);

// The same in the chunked WY / UT-transform form on tensor cores (see delta_rule_chunked.cu), for scoring: chunks
// of 64 tokens, bf16 q, k, v and output (as fla keeps them), fp32 beta, g, accumulation and state; `batch`
// sequences of T tokens one after another in q, k, v, beta, g and out, state [batch × HV, dk, dv]. q, k, v and out
// must be 16-byte aligned (the kernels copy them with cp.async).
struct DeltaRuleChunkedArgs {
  const void *q, *k, *v;  // bf16 [batch·T, H·dk], [batch·T, H·dk], [batch·T, HV·dv]
  const float *beta, *g;  // [batch·T, HV]; g may be null (no decay)
  float* state;
  void* out;  // bf16 [batch·T, HV·dv]
  std::int64_t T, H, HV, dk, dv;
  float scale;
  std::int64_t batch = 1;
};
// Covers head_k_dim 32, 64, 128 or 256 and head_v_dim a multiple of 64 up to 512; workspace: a device buffer of
// delta_rule_chunked_workspace_bytes (16-byte aligned).
bool delta_rule_chunked_supported(std::int64_t head_k_dim, std::int64_t head_v_dim);
// HV here counts the value heads of all sequences (batch × num_v_heads).
std::size_t delta_rule_chunked_workspace_bytes(std::int64_t T, std::int64_t HV, std::int64_t dk, std::int64_t dv);
void delta_rule_chunked_bf16(const DeltaRuleChunkedArgs& a, void* workspace, cudaStream_t stream);

// --- gated linear attention and state-space models (gated_linear_attention.cu, ssd.cu, selective_scan.cu,
//     forget_gate.cu; the first two share linear_recurrence.cuh) ---
// Each scores `batch` sequences of T tokens one after another in its row operands (state [batch, ...], each
// sequence its own), or runs a decoding step (the *_step_batch forms: T = 1, row i continues states.p[i], `batch`
// and `state` unused). Token by token with float32 state and arithmetic; the row operands and the output share one
// element type (float32 or bf16); the per-head / per-channel parameters are float32. A shape no kernel covers
// throws std::runtime_error naming the op (the *_supported checks say which ones do).
//
// GLA / RetNet / HGRN2: S ← diag(exp(g_t)) S + k_t v_tᵀ, o_t = Sᵀ(scale · q_t) per value head hv, which reads query /
// key head hv / (HV / H).
struct GatedLinearAttentionArgs {
  const void *q, *k, *v;  // [rows, H·dk], [rows, H·dk], [rows, HV·dv]
  const float* g;         // log decay: [g rows, HV·dk] (per_channel) or [g rows, HV]
  float* state;           // [batch, HV, dk, dv]
  void* out;              // [rows, HV·dv]
  std::int64_t T, H, HV, dk, dv;
  bool per_channel = true;
  bool g_per_token = true;  // false: g has one row, the same decay at every token (RetNet)
  float scale = 1.0f;
  std::int64_t batch = 1;
};
bool gated_linear_attention_supported(std::int64_t head_k_dim);  // 1..256
void gated_linear_attention(const GatedLinearAttentionArgs& a, Elem e, cudaStream_t stream);
void gated_linear_attention_step_batch(const GatedLinearAttentionArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream);

// Mamba2's SSD: per head h of group h / (H / G), S [N, P]: S ← exp(dt·A_h) S + B_t (dt · x_t,h)ᵀ, y = Sᵀ C_t + D · x,
// A = −exp(A_log).
struct SsdArgs {
  const void *x, *B, *C;        // [rows, H·P], [rows, G·N], [rows, G·N]
  const float *dt, *A_log, *D;  // [rows, H] (after softplus), [H], [H] or [H·P]
  bool d_per_channel = false;
  float* state;                 // [batch, H, N, P]
  void* out;                    // [rows, H·P]
  std::int64_t T, G, H, N, P;
  std::int64_t batch = 1;
};
bool ssd_supported(std::int64_t state_size);  // 1..256
void ssd(const SsdArgs& a, Elem e, cudaStream_t stream);
void ssd_step_batch(const SsdArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream);

// Gated linear attention and Mamba2's SSD in the chunked form on tensor cores (linear_attention_chunked.cu), for
// scoring: bf16 q, k, v and out, fp32 state [batch, HV, dk, dv] read at the start and written at the end.
// GLA / RetNet / HGRN2: g is the log decay, [g rows, g_cols] with g_cols = HV·dk (per_channel) or HV, one row per
// token or one row for all (g_per_token false). SSD (A_log set): q = C, k = B, v = x, g is dt [rows, HV] after
// softplus, the decay log dt·(−exp(A_log)), and D (if set, [HV] or [HV·dv] with d_per_channel) adds D·x.
// Every log decay must be ≤ 0 (a decay ≤ 1), as every family's is.
struct LinearAttentionChunkedArgs {
  const void *q, *k, *v;
  const float* g;
  std::int64_t g_cols = 0;
  bool g_per_token = true;
  bool per_channel = false;
  const float *A_log = nullptr, *D = nullptr;
  bool d_per_channel = false;
  float* state;
  void* out;
  std::int64_t T, H, HV, dk, dv;
  float scale = 1.0f;
  std::int64_t batch = 1;
  // How the chunks' states reach the outputs (linear_attention_chunked.cu says why each exists). Auto: fused at
  // dk 256 when the batch's heads fill the GPU, else segmented, split where the state grid leaves SMs idle. Tests
  // force one.
  enum class StatePass { Auto, Fused, Segmented };
  StatePass state_pass = StatePass::Auto;
  std::int64_t state_segments = 0;  // Segmented: how many (0: as many as fill the GPU)
  std::int64_t fused_cols = 0;      // Fused: the column tile, 32 or 64 (0: the widest dividing head_v_dim)
};
bool linear_attention_chunked_supported(std::int64_t head_k_dim, std::int64_t head_v_dim);  // dk 16..256 (powers of 2), dv % 32 == 0
// The workspace for these arguments' shapes (device memory, 16-byte aligned).
std::size_t linear_attention_chunked_workspace_bytes(const LinearAttentionChunkedArgs& a);
void linear_attention_chunked_bf16(const LinearAttentionChunkedArgs& a, void* workspace, cudaStream_t stream);
// Which kernel runs the fused pass. Auto: the Hopper wgmma kernel (linear_attention_fused_wgmma.cu) where it runs —
// this build has it, the device is sm_90, dk 256, dv a multiple of 64, q and k materialised (one key head per value
// head), no SSD skip term, at least a quarter of the SMs' count in column tiles (batch × heads × dv / 64) — and it is
// then the pass Auto takes, in its pair form (a cluster of two CTAs per column tile) when the tiles alone would leave
// SMs idle; the mma.sync kernels otherwise. Wgmma / WgmmaPair: that kernel in the one form where it runs; MmaSync:
// the mma.sync kernels only (tests and benchmarks compare them). LMSCOPE_LINEAR_ATTENTION_KERNEL=mma|wgmma|wgmma-pair
// sets the initial choice. Set it before asking for the workspace: the choices can need different sizes.
enum class LinearAttentionKernel { Auto, MmaSync, Wgmma, WgmmaPair };
void set_linear_attention_chunked_kernel(LinearAttentionKernel kernel);

// Mamba's selective scan: per channel d, h [N]: h ← exp(Δ·A_d) ⊙ h + (Δ·x) B_t, y = C_t · h + D_d · x, A = −exp(A_log).
struct SelectiveScanArgs {
  const void *x, *delta, *B, *C;  // [rows, Dn], [rows, Dn] (after softplus), [rows, N], [rows, N]
  const float *A_log, *D;         // [Dn, N], [Dn]
  float* state;                   // [batch, Dn, N]
  void* out;                      // [rows, Dn]
  std::int64_t T, Dn, N;
  std::int64_t batch = 1;
};
bool selective_scan_supported(std::int64_t state_size);  // 1..256
void selective_scan(const SelectiveScanArgs& a, Elem e, cudaStream_t stream);
void selective_scan_step_batch(const SelectiveScanArgs& a, Elem e, const DecodeStates& states, cudaStream_t stream);
// The same in the form that scores sequences (selective_scan_gated.cu), with Mamba's step size and output gate fused
// as mamba-ssm fuses them: Δ = softplus(delta + delta_bias), out = (C_t · h + D·x) · silu(z). x, z and out in type e;
// delta, B, C float32. Each sequence starts from its state and leaves the final one there. Long sequences are cut
// into time chunks that run in parallel (workspace: selective_scan_gated_workspace_bytes, 16-byte aligned).
struct SelectiveScanGatedArgs {
  const void *x, *z;                // [rows, Dn] each (x after the convolution)
  const float *delta, *delta_bias;  // [rows, Dn] before the bias and softplus; [Dn] or null
  const float *B, *C;               // [rows, N]
  const float *A_log, *D;           // [Dn, N], [Dn]
  float* state;                     // [batch, Dn, N]
  void* out;                        // [rows, Dn]
  std::int64_t T, Dn, N;
  std::int64_t batch = 1;
};
bool selective_scan_gated_supported(std::int64_t state_size, std::int64_t channels);  // N 8, 16, 32; Dn % 8 == 0
std::size_t selective_scan_gated_workspace_bytes(const SelectiveScanGatedArgs& a);
void selective_scan_gated(const SelectiveScanGatedArgs& a, Elem e, void* workspace, cudaStream_t stream);

// HGRN2's forget gate over f, k [T, C] (type e): f ← g = log(lb + (1 − lb)·σ(f)) (lower_bound [C], or null:
// logsigmoid(f)), k = 1 − exp(g).
void forget_gate(void* f, void* k, Elem e, const float* lower_bound, std::int64_t T, std::int64_t C, cudaStream_t stream);

// BitNet's weight quantiser over n values (bitnet_quant.cu): s = 1 / max(mean|w|, 1e-5), out = clamp(round(w·s), −1,
// 1) (the ternary values; 1/s scales the product), halves to even; float32 out; workspace: one device double, which
// holds Σ|w| afterwards.
void quantize_weight_ternary(const void* w, Elem w_t, std::int64_t n, float* out, double* workspace, cudaStream_t stream);

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
  rope(x, Elem::F32, T, heads, head_dim, cos, sin, half, pos0, T, stream);
}

struct AttentionArgs {
  const float* q;  // [Tq, num_heads * head_dim]
  const float* k;  // [>= kv_len, num_kv_heads * head_dim]
  const float* v;
  float* out;      // [Tq, num_heads * head_dim]
  std::int64_t Tq, num_heads, num_kv_heads, head_dim, q_pos0, kv_len, window;
  float scale;
  float softcap = 0;  // > 0: scores s become softcap·tanh(s / softcap)
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
  float softcap = 0;  // > 0: scores s become softcap·tanh(s / softcap)
};
bool attention_bf16_supported(std::int64_t head_dim);
void attention_bf16(const AttentionBf16Args& a, cudaStream_t stream);
// Which kernel attention_bf16 runs. Auto and Wgmma: the Hopper wgmma kernel (attention_flash_wgmma.cu) where it runs —
// this build has it, the device is sm_90, head dim 64 or 128 (attention_bf16_wgmma_available) — and the mma.sync
// kernel otherwise; MmaSync: always mma.sync (tests and benchmarks compare the two). The environment variable
// LMSCOPE_ATTENTION_KERNEL=mma|wgmma sets the initial choice.
enum class AttentionBf16Kernel { Auto, MmaSync, Wgmma };
void set_attention_bf16_kernel(AttentionBf16Kernel kernel);
bool attention_bf16_wgmma_available(std::int64_t head_dim);

// One query row per sequence (a decode step) over that sequence's keys [first, end), split along the keys into
// `splits` blocks per KV head and sequence whose partial softmaxes are merged (attention_decode.cu). q/k/v/out
// share the element type `e`; `workspace` holds n · num_heads · splits · (head_dim + 2) floats.
struct AttentionDecodeSeq {
  const void* k;  // [>= end, num_kv_heads * head_dim]
  const void* v;
  std::int64_t first, end;
};
struct AttentionDecodeArgs {
  const void* q;  // [n, num_heads * head_dim]
  void* out;      // [n, num_heads * head_dim]
  int n = 1;      // <= kMaxDecodeRows
  AttentionDecodeSeq seq[kMaxDecodeRows];
  std::int64_t num_heads, num_kv_heads, head_dim;
  float scale;
  float softcap = 0;
  int splits = 1;
  float* workspace = nullptr;
};
bool attention_decode_supported(std::int64_t head_dim, std::int64_t num_heads, std::int64_t num_kv_heads);
// A split count for n sequences whose longest key range is kv_range on the current GPU (a few blocks per
// multiprocessor, at least 64 keys per block).
int attention_decode_splits(std::int64_t kv_range, std::int64_t n, std::int64_t num_kv_heads);
void attention_decode(const AttentionDecodeArgs& a, Elem e, cudaStream_t stream);

// A decoding step's RoPE and KV-cache writes for n sequences in one launch (rope_kv_append.cu): row i of q is
// rotated in place with row pos of its tables (cos null: not rotated), row i of k rotated likewise into k_dst and
// row i of v copied to v_dst. half = rotary pairs per head (the tables' columns); q, k, v, k_dst, v_dst share `e`.
struct KvAppendRow {
  const float* cos;
  const float* sin;
  std::int64_t pos;
  void* k_dst;  // the cache row the key goes to
  void* v_dst;
};
struct RopeKvAppendArgs {
  void* q;        // [n, num_heads * head_dim]
  const void* k;  // [n, num_kv_heads * head_dim]
  const void* v;
  int n = 0;
  KvAppendRow row[kMaxDecodeRows];
  std::int64_t num_heads, num_kv_heads, head_dim, half;
};
void rope_kv_append(const RopeKvAppendArgs& a, Elem e, cudaStream_t stream);



// Two logits blocks [rows, vocab] (float32, row-major) compared row by row (the compare task): KL(base ‖ model) in
// nats, both NLLs of targets[r] (< 0: 0) and whether the argmaxes agree (first index on ties). Device outputs.
struct LogitsComparisonOut {
  double* kl;
  double* nll;
  double* base_nll;
  unsigned char* same_top;
};
void compare_logits(const float* base, const float* model, std::int64_t rows, std::int64_t vocab,
                    const std::int32_t* targets, const LogitsComparisonOut& out, cudaStream_t stream);

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
// Folds columns [c0, c0 + n) of the logits chunk [T, ld] (first n columns valid) into the state; softcap > 0 caps
// each logit z to softcap·tanh(z / softcap) first.
void vocab_scores_update(const float* logits, std::int64_t ld, std::int64_t T, std::int64_t n, std::int64_t c0,
                         const std::int32_t* targets, const VocabScoreState& s, float softcap, cudaStream_t stream);

}  // namespace lmscope::cuda
