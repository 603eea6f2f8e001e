// The CUDA backend's gated linear attention and state-space ops (GLA, RetNet, HGRN2, Mamba, Mamba2, Samba's Mamba
// layers): one launch per call for one sequence, for `batch` sequences scored from empty states, and for a decoding
// step of several sequences (kernels/src/gated_linear_attention.cu, ssd.cu, selective_scan.cu, forget_gate.cu),
// plus the bias add and BitNet's ternary weight quantisation. The row operands (q, k, v / x, Δ, B, C) and the output
// run in their own element type when they share one (float32 or bf16), else as float32 copies; the per-head
// parameters are float32 and so is every state. In bf16 mode, scoring GLA / RetNet / HGRN2 / SSD runs the chunked
// form on tensor cores (linear_attention_chunked.cu; 64-token chunks whatever chunk_size says, the same function);
// fp32 mode and decoding steps run the token-by-token kernels. Key / state dims above 256 have no kernel: those
// calls run the CPU reference on host copies (cuda_host_fallback.cpp), and the backend says so once per op.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "backend/cuda_backend.h"
#include "backend/cuda_backend_checks.h"
#include "lmscope/error.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {
namespace {

using cuda_backend_detail::elem;
using cuda_backend_detail::expect;
using cuda_backend_detail::launch;

// The element type the row operands and the output share, or F32 when they differ.
DType common_dtype(std::initializer_list<const Tensor*> ts) {
  const DType d = (*ts.begin())->dtype;
  for (const Tensor* t : ts)
    if (t->dtype != d) return DType::F32;
  return d == DType::BF16 ? DType::BF16 : DType::F32;
}

// Per-sequence float32 states of a decoding step; every one must be float32 (the models' states are).
bool all_f32(std::span<Tensor* const> states) {
  return std::all_of(states.begin(), states.end(), [](const Tensor* t) { return t->dtype == DType::F32; });
}

}  // namespace

void CudaBackend::add_bias(Tensor& x, const Tensor& bias) {
  expect(bias.numel() == x.cols(), "add_bias", "bias must have one value per column");
  const Tensor bf = as_dtype(bias, DType::F32);
  launch("add_bias", [&] { cuda::add_bias(x.data, elem(x.dtype, "add_bias"), bf.as<float>(), x.rows(), x.cols(), stream()); });
}

void CudaBackend::add_bias_silu(Tensor& x, const Tensor& bias) {
  expect(bias.numel() == x.cols(), "add_bias_silu", "bias must have one value per column");
  const Tensor bf = as_dtype(bias, DType::F32);
  launch("add_bias_silu", [&] {
    cuda::add_bias(x.data, elem(x.dtype, "add_bias_silu"), bf.as<float>(), x.rows(), x.cols(), stream(), true);
  });
}

void CudaBackend::forget_gate(Tensor& f, const Tensor* lower_bound, Tensor& k) {
  const std::int64_t T = f.rows(), C = f.cols();
  expect(k.rows() == T && k.cols() == C, "forget_gate", "k must have f's shape");
  expect(!lower_bound || lower_bound->numel() == C, "forget_gate", "lower_bound must have one value per column");
  Tensor lb;
  if (lower_bound) lb = as_dtype(*lower_bound, DType::F32);
  const DType d = common_dtype({&f, &k});
  Tensor ff = as_dtype(f, d), kf = k.dtype == d ? k : alloc(d, k.shape);
  launch("forget_gate", [&] {
    cuda::forget_gate(ff.data, kf.data, elem(d, "forget_gate"), lower_bound ? lb.as<float>() : nullptr, T, C, stream());
  });
  if (ff.data != f.data) copy_rows(as_dtype(ff, f.dtype), f, 0);
  if (kf.data != k.data) copy_rows(as_dtype(kf, k.dtype), k, 0);
}

Tensor CudaBackend::quantize_weight_ternary(const Tensor& w, float* scale) {
  const DType d = w.dtype == DType::BF16 ? DType::BF16 : DType::F32;
  const Tensor wf = as_dtype(w, d);
  Tensor t = alloc(DType::F32, w.shape);
  Tensor sum = alloc(DType::F32, {2});  // one double
  launch("quantize_weight_ternary", [&] {
    cuda::quantize_weight_ternary(wf.data, elem(d, "quantize_weight_ternary"), w.numel(), t.as<float>(), static_cast<double*>(sum.data),
                                  stream());
  });
  // The scale from the sum with the kernel's float operations, read once at load (the double's bytes travel as the
  // two floats of `sum`).
  float bits[2];
  download(sum, bits);
  double host_sum = 0;
  std::memcpy(&host_sum, bits, sizeof host_sum);
  const float mean = static_cast<float>(host_sum / static_cast<double>(w.numel()));
  const float s = 1.0f / std::max(mean, 1e-5f);
  *scale = 1.0f / s;
  if (bitlinear_in_int8(w.cols())) {
    Tensor t8 = alloc(DType::I8, w.shape);
    launch("quantize_weight_ternary", [&] { cuda::round_to_int8(t.as<float>(), t.numel(), t8.as<std::int8_t>(), stream()); });
    return t8;
  }
  return as_dtype(t, activation_dtype());  // ternary values are exact in bf16
}

// BitLinear's product in int8 (bf16 mode; cuBLASLt's int8 products want the reduction length a multiple of 4, 16
// here for aligned rows). LMSCOPE_BITLINEAR_INT8=0 keeps the bf16 product (for measurements).
bool CudaBackend::bitlinear_in_int8(std::int64_t in_features) const {
  static const bool enabled = [] {
    const char* e = std::getenv("LMSCOPE_BITLINEAR_INT8");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return enabled && activation_dtype() == DType::BF16 && in_features % 16 == 0;
}

// --- gated linear attention (GLA, RetNet, HGRN2) ---

namespace {

struct GlaShapeCheck {
  std::int64_t rows, H, HV, dk, dv;
  bool per_channel, g_per_token;
};

GlaShapeCheck check_gla(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                        const LinearAttentionShape& s, const Tensor& out) {
  const std::int64_t T = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, op, "num_v_heads must be a multiple of num_heads");
  expect(q.cols() == H * dk && k.rows() == T && k.cols() == H * dk, op, "q/k shape");
  expect(v.rows() == T && v.cols() == HV * dv && out.rows() == T && out.cols() == HV * dv, op, "v/out shape");
  expect(g.rows() == T || g.rows() == 1, op, "g must have T rows or one");
  expect(g.cols() == HV * dk || g.cols() == HV, op, "g must have a value per key channel or per head");
  return {T, H, HV, dk, dv, g.cols() == HV * dk, g.rows() != 1 || T == 1};
}

}  // namespace

void CudaBackend::gated_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                         const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  const GlaShapeCheck c = check_gla("gated_linear_attention", q, k, v, g, s, out);
  expect(state.numel() == c.HV * c.dk * c.dv, "gated_linear_attention", "state must be [num_v_heads, head_k_dim, head_v_dim]");
  expect(chunk_size >= 0, "gated_linear_attention", "chunk_size must not be negative");
  if (!cuda::gated_linear_attention_supported(c.dk)) {
    note_host_fallback("gated_linear_attention", "head_k_dim " + std::to_string(c.dk) + " > 256");
    gated_linear_attention_on_host(q, k, v, g, s, chunk_size, state, out);
    return;
  }
  if (linear_attention_chunked_applies(c.dk, c.dv, c.rows)) {
    gla_chunked(q, k, v, g, s, 1, state, out);
    return;
  }
  gated_linear_attention_launch(q, k, v, g, s, 1, &state, {}, out);
}

void CudaBackend::gated_linear_attention_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                               const LinearAttentionShape& s, std::int64_t chunk_size, std::int64_t batch,
                                               Tensor& out) {
  expect(batch > 0 && q.rows() % batch == 0, "gated_linear_attention_batch", "rows must be batch x T");
  if (!cuda::gated_linear_attention_supported(s.head_k_dim)) {
    Backend::gated_linear_attention_batch(q, k, v, g, s, chunk_size, batch, out);
    return;
  }
  check_gla("gated_linear_attention_batch", q, k, v, g, s, out);
  Tensor state = alloc(DType::F32, {batch * s.num_v_heads, s.head_k_dim, s.head_v_dim});
  fill(state, 0.0f);
  if (linear_attention_chunked_applies(s.head_k_dim, s.head_v_dim, q.rows() / batch)) {
    gla_chunked(q, k, v, g, s, batch, state, out);
    return;
  }
  gated_linear_attention_launch(q, k, v, g, s, batch, &state, {}, out);
}

void CudaBackend::gated_linear_attention_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                                    const LinearAttentionShape& s, std::span<Tensor* const> states, Tensor& out) {
  const auto n = static_cast<std::int64_t>(states.size());
  const GlaShapeCheck c = check_gla("gated_linear_attention_step_batch", q, k, v, g, s, out);
  expect(c.rows == n, "gated_linear_attention_step_batch", "one row per sequence");
  for (Tensor* st : states)
    expect(st->numel() == c.HV * c.dk * c.dv, "gated_linear_attention_step_batch", "each state must be [num_v_heads, head_k_dim, head_v_dim]");
  if (!cuda::gated_linear_attention_supported(c.dk) || !all_f32(states)) {
    Backend::gated_linear_attention_step_batch(q, k, v, g, s, states, out);
    return;
  }
  gated_linear_attention_launch(q, k, v, g, s, n, nullptr, states, out);
}

// One sequence (batch 1, `state`), `batch` sequences (state [batch · HV, dk, dv]) or a decoding step (`states`).
void CudaBackend::gated_linear_attention_launch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                                const LinearAttentionShape& s, std::int64_t batch, Tensor* state,
                                                std::span<Tensor* const> states, Tensor& out) {
  const std::int64_t rows = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  const DType d = common_dtype({&q, &k, &v, &out});
  const Tensor qd = as_dtype(q, d), kd = as_dtype(k, d), vd = as_dtype(v, d), gf = as_dtype(g, DType::F32);
  Tensor od = out.dtype == d ? out : alloc(d, out.shape);
  const bool step = state == nullptr;
  Tensor sf;
  if (!step) sf = as_dtype(*state, DType::F32);
  cuda::GatedLinearAttentionArgs a{};
  a.q = qd.data;
  a.k = kd.data;
  a.v = vd.data;
  a.g = gf.as<float>();
  a.out = od.data;
  a.T = step ? 1 : rows / batch;
  a.H = H;
  a.HV = HV;
  a.dk = dk;
  a.dv = dv;
  a.per_channel = g.cols() == HV * dk;
  a.g_per_token = g.rows() != 1 || rows == 1;
  a.scale = s.scale;
  a.batch = batch;
  const cuda::Elem e = elem(d, "gated_linear_attention");
  if (!step) {
    a.state = sf.as<float>();
    launch("gated_linear_attention", [&] { cuda::gated_linear_attention(a, e, stream()); });
    if (sf.data != state->data) copy_rows(as_dtype(sf, state->dtype), *state, 0);
  } else {
    const auto n = static_cast<std::int64_t>(states.size());
    for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
      const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
      cuda::DecodeStates ds{};
      ds.n = m;
      for (int i = 0; i < m; ++i) ds.p[i] = states[static_cast<std::size_t>(r0 + i)]->as<float>();
      cuda::GatedLinearAttentionArgs ai = a;
      const std::size_t es = d == DType::BF16 ? 2 : 4;
      ai.q = static_cast<const char*>(a.q) + r0 * H * dk * es;
      ai.k = static_cast<const char*>(a.k) + r0 * H * dk * es;
      ai.v = static_cast<const char*>(a.v) + r0 * HV * dv * es;
      ai.out = static_cast<char*>(a.out) + r0 * HV * dv * es;
      if (a.g_per_token) ai.g = a.g + r0 * g.cols();
      launch("gated_linear_attention_step_batch", [&] { cuda::gated_linear_attention_step_batch(ai, e, ds, stream()); });
    }
  }
  if (od.data != out.data) copy_rows(as_dtype(od, out.dtype), out, 0);
}

// --- the chunked tensor-core form (GLA, RetNet, HGRN2, SSD) ---

bool CudaBackend::linear_attention_chunked_applies(std::int64_t dk, std::int64_t dv, std::int64_t T) const {
  return activation_dtype() == DType::BF16 && T >= 2 && cuda::linear_attention_chunked_supported(dk, dv);
}

void CudaBackend::linear_attention_chunked_launch(cuda::LinearAttentionChunkedArgs a, const LinearAttentionShape& s,
                                                  std::int64_t batch, const Tensor& q, const Tensor& k, const Tensor& v,
                                                  Tensor& state, Tensor& out) {
  a.T = q.rows() / batch;
  a.H = s.num_heads;
  a.HV = s.num_v_heads;
  a.dk = s.head_k_dim;
  a.dv = s.head_v_dim;
  a.batch = batch;
  const Tensor qb = as_aligned_bf16(q), kb = as_aligned_bf16(k), vb = as_aligned_bf16(v);
  const bool direct = out.dtype == DType::BF16 && cuda_backend_detail::aligned16(out.data);
  Tensor ob = direct ? out : alloc(DType::BF16, out.shape);
  Tensor sf = as_dtype(state, DType::F32);
  const auto bytes = static_cast<std::int64_t>(cuda::linear_attention_chunked_workspace_bytes(a));
  Tensor work = alloc(DType::F32, {(bytes + 3) / 4});
  a.q = qb.data;
  a.k = kb.data;
  a.v = vb.data;
  a.out = ob.data;
  a.state = sf.as<float>();
  launch("linear_attention_chunked", [&] { cuda::linear_attention_chunked_bf16(a, work.data, stream()); });
  if (sf.data != state.data) copy_rows(as_dtype(sf, state.dtype), state, 0);
  if (!direct) copy_rows(as_dtype(ob, out.dtype), out, 0);
}

void CudaBackend::gla_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const LinearAttentionShape& s,
                              std::int64_t batch, Tensor& state, Tensor& out) {
  const Tensor gf = as_dtype(g, DType::F32);
  cuda::LinearAttentionChunkedArgs a{};
  a.g = gf.as<float>();
  a.g_cols = g.cols();
  a.per_channel = g.cols() == s.num_v_heads * s.head_k_dim;
  a.g_per_token = g.rows() != 1;
  a.scale = s.scale;
  linear_attention_chunked_launch(a, s, batch, q, k, v, state, out);
}

void CudaBackend::ssd_chunked(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                              const Tensor& D, const LinearAttentionShape& s, std::int64_t batch, Tensor& state, Tensor& out) {
  const Tensor df = as_dtype(dt, DType::F32), af = as_dtype(A_log, DType::F32), Df = as_dtype(D, DType::F32);
  cuda::LinearAttentionChunkedArgs a{};
  a.g = df.as<float>();
  a.g_cols = s.num_v_heads;
  a.A_log = af.as<float>();
  a.D = Df.as<float>();
  a.d_per_channel = D.numel() == s.num_v_heads * s.head_v_dim && s.head_v_dim != 1;
  linear_attention_chunked_launch(a, s, batch, C, B, x, state, out);
}

// --- Mamba's selective scan ---

namespace {

void check_scan(const char* op, const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                const Tensor& D, const Tensor& out) {
  const std::int64_t T = x.rows(), Dn = x.cols(), N = A_log.cols();
  expect(delta.rows() == T && delta.cols() == Dn && out.rows() == T && out.cols() == Dn, op, "x/delta/out shape");
  expect(A_log.rows() == Dn, op, "A_log must be [channels, state_size]");
  expect(B.rows() == T && B.cols() == N && C.rows() == T && C.cols() == N, op, "B and C must be [T, state_size]");
  expect(D.numel() == Dn, op, "D must be [channels]");
}

}  // namespace

void CudaBackend::selective_scan(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B, const Tensor& C,
                                 const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  check_scan("selective_scan", x, delta, A_log, B, C, D, out);
  expect(state.numel() == x.cols() * A_log.cols(), "selective_scan", "state must be [channels, state_size]");
  expect(chunk_size >= 0, "selective_scan", "chunk_size must not be negative");
  if (!cuda::selective_scan_supported(A_log.cols())) {
    note_host_fallback("selective_scan", "state size " + std::to_string(A_log.cols()) + " > 256");
    selective_scan_on_host(x, delta, A_log, B, C, D, chunk_size, state, out);
    return;
  }
  selective_scan_launch(x, delta, A_log, B, C, D, 1, &state, {}, out);
}

void CudaBackend::selective_scan_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                       const Tensor& C, const Tensor& D, std::int64_t chunk_size, std::int64_t batch, Tensor& out) {
  expect(batch > 0 && x.rows() % batch == 0, "selective_scan_batch", "rows must be batch x T");
  if (!cuda::selective_scan_supported(A_log.cols())) {
    Backend::selective_scan_batch(x, delta, A_log, B, C, D, chunk_size, batch, out);
    return;
  }
  check_scan("selective_scan_batch", x, delta, A_log, B, C, D, out);
  Tensor state = alloc(DType::F32, {batch * x.cols(), A_log.cols()});
  fill(state, 0.0f);
  selective_scan_launch(x, delta, A_log, B, C, D, batch, &state, {}, out);
}

void CudaBackend::selective_scan_step_batch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                            const Tensor& C, const Tensor& D, std::span<Tensor* const> states, Tensor& out) {
  check_scan("selective_scan_step_batch", x, delta, A_log, B, C, D, out);
  expect(x.rows() == static_cast<std::int64_t>(states.size()), "selective_scan_step_batch", "one row per sequence");
  for (Tensor* st : states)
    expect(st->numel() == x.cols() * A_log.cols(), "selective_scan_step_batch", "each state must be [channels, state_size]");
  if (!cuda::selective_scan_supported(A_log.cols()) || !all_f32(states)) {
    Backend::selective_scan_step_batch(x, delta, A_log, B, C, D, states, out);
    return;
  }
  selective_scan_launch(x, delta, A_log, B, C, D, x.rows(), nullptr, states, out);
}

void CudaBackend::selective_scan_launch(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                        const Tensor& C, const Tensor& D, std::int64_t batch, Tensor* state,
                                        std::span<Tensor* const> states, Tensor& out) {
  const std::int64_t rows = x.rows(), Dn = x.cols(), N = A_log.cols();
  const DType d = common_dtype({&x, &delta, &B, &C, &out});
  const Tensor xd = as_dtype(x, d), dd = as_dtype(delta, d), Bd = as_dtype(B, d), Cd = as_dtype(C, d);
  const Tensor af = as_dtype(A_log, DType::F32), Df = as_dtype(D, DType::F32);
  Tensor od = out.dtype == d ? out : alloc(d, out.shape);
  const bool step = state == nullptr;
  Tensor sf;
  if (!step) sf = as_dtype(*state, DType::F32);
  cuda::SelectiveScanArgs a{};
  a.x = xd.data;
  a.delta = dd.data;
  a.B = Bd.data;
  a.C = Cd.data;
  a.A_log = af.as<float>();
  a.D = Df.as<float>();
  a.out = od.data;
  a.T = step ? 1 : rows / batch;
  a.Dn = Dn;
  a.N = N;
  a.batch = batch;
  const cuda::Elem e = elem(d, "selective_scan");
  if (!step) {
    a.state = sf.as<float>();
    launch("selective_scan", [&] { cuda::selective_scan(a, e, stream()); });
    if (sf.data != state->data) copy_rows(as_dtype(sf, state->dtype), *state, 0);
  } else {
    const auto n = static_cast<std::int64_t>(states.size());
    const std::size_t es = d == DType::BF16 ? 2 : 4;
    for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
      const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
      cuda::DecodeStates ds{};
      ds.n = m;
      for (int i = 0; i < m; ++i) ds.p[i] = states[static_cast<std::size_t>(r0 + i)]->as<float>();
      cuda::SelectiveScanArgs ai = a;
      ai.x = static_cast<const char*>(a.x) + r0 * Dn * es;
      ai.delta = static_cast<const char*>(a.delta) + r0 * Dn * es;
      ai.B = static_cast<const char*>(a.B) + r0 * N * es;
      ai.C = static_cast<const char*>(a.C) + r0 * N * es;
      ai.out = static_cast<char*>(a.out) + r0 * Dn * es;
      launch("selective_scan_step_batch", [&] { cuda::selective_scan_step_batch(ai, e, ds, stream()); });
    }
  }
  if (od.data != out.data) copy_rows(as_dtype(od, out.dtype), out, 0);
}

void CudaBackend::selective_scan_gated(const Tensor& x, const Tensor& delta, const Tensor& delta_bias, const Tensor& A_log,
                                       const Tensor& B, const Tensor& C, const Tensor& D, const Tensor& z,
                                       std::int64_t chunk_size, std::int64_t batch, Tensor& states, Tensor& out) {
  const char* op = "selective_scan_gated";
  expect(batch > 0 && x.rows() % batch == 0, op, "rows must be batch x T");
  check_scan(op, x, delta, A_log, B, C, D, out);
  const std::int64_t rows = x.rows(), Dn = x.cols(), N = A_log.cols();
  expect(z.rows() == rows && z.cols() == Dn, op, "z must have x's shape");
  expect(delta_bias.numel() == Dn, op, "delta_bias must be [channels]");
  expect(states.numel() == batch * Dn * N, op, "states must be [batch * channels, state_size]");
  const DType d = common_dtype({&x, &z, &out});
  const Tensor xd = as_dtype(x, d), zd = as_dtype(z, d), df = as_dtype(delta, DType::F32), Bf = as_dtype(B, DType::F32),
               Cf = as_dtype(C, DType::F32);
  bool aligned = true;  // the kernel's tiles come by 16-byte copies
  for (const Tensor* t : {&xd, &zd, &df, &Bf, &Cf}) aligned = aligned && cuda_backend_detail::aligned16(t->data);
  if (!cuda::selective_scan_gated_supported(N, Dn) || !aligned || states.dtype != DType::F32) {
    Backend::selective_scan_gated(x, delta, delta_bias, A_log, B, C, D, z, chunk_size, batch, states, out);
    return;
  }
  const Tensor af = as_dtype(A_log, DType::F32), Df = as_dtype(D, DType::F32), bf = as_dtype(delta_bias, DType::F32);
  Tensor od = out.dtype == d ? out : alloc(d, out.shape);
  cuda::SelectiveScanGatedArgs a{};
  a.x = xd.data;
  a.z = zd.data;
  a.delta = df.as<float>();
  a.delta_bias = bf.as<float>();
  a.B = Bf.as<float>();
  a.C = Cf.as<float>();
  a.A_log = af.as<float>();
  a.D = Df.as<float>();
  a.state = states.as<float>();
  a.out = od.data;
  a.T = rows / batch;
  a.Dn = Dn;
  a.N = N;
  a.batch = batch;
  const std::size_t bytes = cuda::selective_scan_gated_workspace_bytes(a);
  Tensor workspace;
  if (bytes > 0) workspace = alloc(DType::U8, {static_cast<std::int64_t>(bytes)});
  launch(op, [&] { cuda::selective_scan_gated(a, elem(d, op), bytes > 0 ? workspace.data : nullptr, stream()); });
  if (od.data != out.data) copy_rows(as_dtype(od, out.dtype), out, 0);
}

// --- Mamba2's SSD ---

namespace {

void check_ssd(const char* op, const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
               const Tensor& D, const LinearAttentionShape& s, const Tensor& out) {
  const std::int64_t T = x.rows(), G = s.num_heads, H = s.num_v_heads, N = s.head_k_dim, P = s.head_v_dim;
  expect(G > 0 && H % G == 0, op, "heads must be a multiple of groups");
  expect(x.cols() == H * P && out.rows() == T && out.cols() == H * P, op, "x/out shape");
  expect(dt.rows() == T && dt.cols() == H && A_log.numel() == H, op, "dt [T, heads], A_log [heads]");
  expect(B.rows() == T && B.cols() == G * N && C.rows() == T && C.cols() == G * N, op, "B and C must be [T, groups · N]");
  expect(D.numel() == H || D.numel() == H * P, op, "D must be [heads] or [heads · head_dim]");
}

}  // namespace

void CudaBackend::ssd(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C, const Tensor& D,
                      const LinearAttentionShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  check_ssd("ssd", x, dt, A_log, B, C, D, s, out);
  expect(state.numel() == s.num_v_heads * s.head_k_dim * s.head_v_dim, "ssd", "state must be [heads, N, head_dim]");
  expect(chunk_size >= 0, "ssd", "chunk_size must not be negative");
  if (!cuda::ssd_supported(s.head_k_dim)) {
    note_host_fallback("ssd", "state size " + std::to_string(s.head_k_dim) + " > 256");
    ssd_on_host(x, dt, A_log, B, C, D, s, chunk_size, state, out);
    return;
  }
  if (linear_attention_chunked_applies(s.head_k_dim, s.head_v_dim, x.rows())) {
    ssd_chunked(x, dt, A_log, B, C, D, s, 1, state, out);
    return;
  }
  ssd_launch(x, dt, A_log, B, C, D, s, 1, &state, {}, out);
}

void CudaBackend::ssd_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                            const Tensor& D, const LinearAttentionShape& s, std::int64_t chunk_size, std::int64_t batch, Tensor& out) {
  expect(batch > 0 && x.rows() % batch == 0, "ssd_batch", "rows must be batch x T");
  if (!cuda::ssd_supported(s.head_k_dim)) {
    Backend::ssd_batch(x, dt, A_log, B, C, D, s, chunk_size, batch, out);
    return;
  }
  check_ssd("ssd_batch", x, dt, A_log, B, C, D, s, out);
  Tensor state = alloc(DType::F32, {batch * s.num_v_heads, s.head_k_dim, s.head_v_dim});
  fill(state, 0.0f);
  if (linear_attention_chunked_applies(s.head_k_dim, s.head_v_dim, x.rows() / batch)) {
    ssd_chunked(x, dt, A_log, B, C, D, s, batch, state, out);
    return;
  }
  ssd_launch(x, dt, A_log, B, C, D, s, batch, &state, {}, out);
}

void CudaBackend::ssd_step_batch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                                 const Tensor& D, const LinearAttentionShape& s, std::span<Tensor* const> states, Tensor& out) {
  check_ssd("ssd_step_batch", x, dt, A_log, B, C, D, s, out);
  expect(x.rows() == static_cast<std::int64_t>(states.size()), "ssd_step_batch", "one row per sequence");
  for (Tensor* st : states)
    expect(st->numel() == s.num_v_heads * s.head_k_dim * s.head_v_dim, "ssd_step_batch", "each state must be [heads, N, head_dim]");
  if (!cuda::ssd_supported(s.head_k_dim) || !all_f32(states)) {
    Backend::ssd_step_batch(x, dt, A_log, B, C, D, s, states, out);
    return;
  }
  ssd_launch(x, dt, A_log, B, C, D, s, x.rows(), nullptr, states, out);
}

void CudaBackend::ssd_launch(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                             const Tensor& D, const LinearAttentionShape& s, std::int64_t batch, Tensor* state,
                             std::span<Tensor* const> states, Tensor& out) {
  const std::int64_t rows = x.rows(), G = s.num_heads, H = s.num_v_heads, N = s.head_k_dim, P = s.head_v_dim;
  const DType d = common_dtype({&x, &B, &C, &out});
  const Tensor xd = as_dtype(x, d), Bd = as_dtype(B, d), Cd = as_dtype(C, d);
  const Tensor df = as_dtype(dt, DType::F32), af = as_dtype(A_log, DType::F32), Df = as_dtype(D, DType::F32);
  Tensor od = out.dtype == d ? out : alloc(d, out.shape);
  const bool step = state == nullptr;
  Tensor sf;
  if (!step) sf = as_dtype(*state, DType::F32);
  cuda::SsdArgs a{};
  a.x = xd.data;
  a.B = Bd.data;
  a.C = Cd.data;
  a.dt = df.as<float>();
  a.A_log = af.as<float>();
  a.D = Df.as<float>();
  a.d_per_channel = D.numel() == H * P && P != 1;
  a.out = od.data;
  a.T = step ? 1 : rows / batch;
  a.G = G;
  a.H = H;
  a.N = N;
  a.P = P;
  a.batch = batch;
  const cuda::Elem e = elem(d, "ssd");
  if (!step) {
    a.state = sf.as<float>();
    launch("ssd", [&] { cuda::ssd(a, e, stream()); });
    if (sf.data != state->data) copy_rows(as_dtype(sf, state->dtype), *state, 0);
  } else {
    const auto n = static_cast<std::int64_t>(states.size());
    const std::size_t es = d == DType::BF16 ? 2 : 4;
    for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
      const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
      cuda::DecodeStates ds{};
      ds.n = m;
      for (int i = 0; i < m; ++i) ds.p[i] = states[static_cast<std::size_t>(r0 + i)]->as<float>();
      cuda::SsdArgs ai = a;
      ai.x = static_cast<const char*>(a.x) + r0 * H * P * es;
      ai.B = static_cast<const char*>(a.B) + r0 * G * N * es;
      ai.C = static_cast<const char*>(a.C) + r0 * G * N * es;
      ai.dt = a.dt + r0 * H;
      ai.out = static_cast<char*>(a.out) + r0 * H * P * es;
      launch("ssd_step_batch", [&] { cuda::ssd_step_batch(ai, e, ds, stream()); });
    }
  }
  if (od.data != out.data) copy_rows(as_dtype(od, out.dtype), out, 0);
}

}  // namespace lmscope
