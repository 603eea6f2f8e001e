// The CUDA backend's linear-attention (DeltaNet, Gated DeltaNet) and BitNet activation ops, one kernel file each in
// kernels/src (the batched convolution, head norms and gated RMSNorm take F32 or BF16 tensors as they come; the
// rest compute on float32 copies). The delta rule's chunked form runs, in
// bf16 mode, the chunked tensor-core kernel (kernels/delta_rule_chunked.cu: bf16 q/k/v/out, fp32 accumulation and
// state) for the head dims it covers; in fp32 mode (the verification mode) and for other dims it runs the
// token-by-token fp32 kernel, the same function evaluated in another order.
#include "backend/cuda_backend.h"

#include <cuda_runtime.h>

#include "backend/cuda_backend_checks.h"
#include "lmscope/error.h"
#include "lmscope_kernels/ops.h"

namespace lmscope {
namespace {

using cuda_backend_detail::aligned16;
using cuda_backend_detail::activation_code;
using cuda_backend_detail::elem;
using cuda_backend_detail::expect;
using cuda_backend_detail::launch;

}  // namespace

template <typename F>
void CudaBackend::on_f32(Tensor& x, F&& f) {
  if (x.dtype == DType::F32) {
    f(x);
    return;
  }
  Tensor tmp = as_dtype(x, DType::F32);
  f(tmp);
  copy_rows(as_dtype(tmp, x.dtype), x, 0);
}

void CudaBackend::activate(Tensor& x, Activation f) {
  launch("activate", [&] { cuda::activate(x.data, elem(x.dtype, "activate"), x.numel(), activation_code(f), stream()); });
}

void CudaBackend::softcap(Tensor& x, float cap) {
  expect(cap > 0, "softcap", "the cap must be positive");
  launch("softcap", [&] { cuda::softcap(x.data, elem(x.dtype, "softcap"), x.numel(), cap, stream()); });
}

void CudaBackend::scale(Tensor& x, float s) {
  launch("scale", [&] { cuda::scale(x.data, elem(x.dtype, "scale"), x.numel(), s, stream()); });
}

void CudaBackend::fill(Tensor& x, float value) {
  launch("fill", [&] { cuda::fill(x.data, elem(x.dtype, "fill"), x.numel(), value, stream()); });
}

void CudaBackend::causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) {
  const std::int64_t T = x.rows(), C = x.cols(), K = w.cols();
  expect(w.rows() == C && K >= 1, "causal_conv1d", "weight must be [C, K]");
  expect(state.numel() == (K - 1) * C, "causal_conv1d", "state must be [K-1, C]");
  expect(out.rows() == T && out.cols() == C && out.data != x.data, "causal_conv1d", "output shape (and not in place)");
  const Tensor xf = as_dtype(x, DType::F32), wf = as_dtype(w, DType::F32), sf = as_dtype(state, DType::F32);
  Tensor of = out.dtype == DType::F32 ? out : alloc(DType::F32, out.shape);
  Tensor next = alloc(DType::F32, {std::max<std::int64_t>(K - 1, 1), C});
  launch("causal_conv1d", [&] {
    cuda::causal_conv1d_f32(xf.as<float>(), wf.as<float>(), sf.as<float>(), T, C, K, silu, of.as<float>(), next.as<float>(), stream());
  });
  if (of.data != out.data) copy_rows(of, out, 0);
  if (K > 1) copy_rows(next.slice_rows(0, K - 1).reshaped(state.shape), state, 0);
}

void CudaBackend::causal_conv1d_batch(const Tensor& x, const Tensor& w, const Tensor* bias, std::int64_t batch, bool silu,
                                      Tensor& out) {
  const std::int64_t N = x.rows(), C = x.cols(), K = w.cols();
  expect(batch > 0 && N % batch == 0, "causal_conv1d_batch", "rows must be batch x T");
  expect(w.rows() == C && K >= 1, "causal_conv1d_batch", "weight must be [C, K]");
  expect(!bias || bias->numel() == C, "causal_conv1d_batch", "bias must be [C]");
  expect(out.rows() == N && out.cols() == C && out.data != x.data, "causal_conv1d_batch", "output shape (and not in place)");
  const Tensor wf = as_dtype(w, DType::F32);
  const Tensor bf = bias ? as_dtype(*bias, DType::F32) : Tensor{};
  launch("causal_conv1d_batch", [&] {
    cuda::causal_conv1d_batch(x.data, elem(x.dtype, "causal_conv1d_batch"), wf.as<float>(), bias ? bf.as<float>() : nullptr,
                              N / batch, batch, C, K, silu, out.data, elem(out.dtype, "causal_conv1d_batch"), stream());
  });
}

// A decoding step's convolutions, one launch per kMaxDecodeRows sequences (each history a float32 [K-1, C]).
void CudaBackend::causal_conv1d_step_batch(const Tensor& x, const Tensor& w, std::span<Tensor* const> states, bool silu,
                                           Tensor& out) {
  const auto n = static_cast<std::int64_t>(states.size());
  const std::int64_t C = x.cols(), K = w.cols();
  expect(x.rows() == n && out.rows() == n && out.cols() == C && out.data != x.data, "causal_conv1d_step_batch",
         "one row per sequence (and not in place)");
  expect(w.rows() == C && K >= 1, "causal_conv1d_step_batch", "weight must be [C, K]");
  bool f32_states = true;
  for (Tensor* st : states) {
    expect(st->numel() == (K - 1) * C, "causal_conv1d_step_batch", "each state must be [K-1, C]");
    f32_states = f32_states && st->dtype == DType::F32;
  }
  if (!f32_states || K > 64) {
    Backend::causal_conv1d_step_batch(x, w, states, silu, out);
    return;
  }
  const Tensor wf = as_dtype(w, DType::F32);
  for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
    const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
    cuda::DecodeStates ds{};
    ds.n = m;
    for (int i = 0; i < m; ++i) ds.p[i] = states[static_cast<std::size_t>(r0 + i)]->as<float>();
    Tensor xs = x.slice_rows(r0, m), os = out.slice_rows(r0, m);
    launch("causal_conv1d_step_batch", [&] {
      cuda::causal_conv1d_step_batch(xs.data, elem(x.dtype, "causal_conv1d_step_batch"), wf.as<float>(), C, K, silu, ds, os.data,
                                     elem(out.dtype, "causal_conv1d_step_batch"), stream());
    });
  }
}

void CudaBackend::l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) {
  expect(head_dim > 0 && x.numel() % head_dim == 0, "l2_normalize_heads", "size is not a multiple of head_dim");
  launch("l2_normalize_heads", [&] {
    cuda::normalize_heads(x.data, elem(x.dtype, "l2_normalize_heads"), x.numel(), head_dim, eps, true, stream());
  });
}

void CudaBackend::sum_normalize_heads(Tensor& x, std::int64_t head_dim) {
  expect(head_dim > 0 && x.numel() % head_dim == 0, "sum_normalize_heads", "size is not a multiple of head_dim");
  launch("sum_normalize_heads", [&] {
    cuda::normalize_heads(x.data, elem(x.dtype, "sum_normalize_heads"), x.numel(), head_dim, 0.f, false, stream());
  });
}

void CudaBackend::decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) {
  const std::int64_t T = a.rows(), H = a.cols();
  expect(A_log.numel() == H && dt_bias.numel() == H, "decay_gate", "A_log and dt_bias need one value per head");
  const Tensor al = as_dtype(A_log, DType::F32), db = as_dtype(dt_bias, DType::F32);
  on_f32(a, [&](Tensor& t) {
    launch("decay_gate", [&] { cuda::decay_gate_f32(t.as<float>(), al.as<float>(), db.as<float>(), T, H, stream()); });
  });
}

void CudaBackend::rmsnorm_of_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) {
  const std::int64_t C = x.cols(), R = x.rows();
  expect(w.numel() == C && gate.numel() == x.numel() && out.numel() == x.numel(), "rmsnorm_of_gated", "shape");
  const Tensor wf = as_dtype(w, DType::F32);
  launch("rmsnorm_of_gated", [&] {
    cuda::rmsnorm_of_gated(x.data, elem(x.dtype, "rmsnorm_of_gated"), wf.as<float>(), gate.data, elem(gate.dtype, "rmsnorm_of_gated"),
                           eps, R, C, out.data, elem(out.dtype, "rmsnorm_of_gated"), stream());
  });
}

void CudaBackend::rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) {
  const std::int64_t R = x.rows(), C = x.cols();
  expect(w.numel() == C && gate.numel() == x.numel() && out.numel() == x.numel(), "rmsnorm_gated", "shape");
  const Tensor wf = as_dtype(w, DType::F32);
  launch("rmsnorm_gated", [&] {
    cuda::rmsnorm_gated(x.data, elem(x.dtype, "rmsnorm_gated"), wf.as<float>(), gate.data, elem(gate.dtype, "rmsnorm_gated"), eps,
                        R, C, out.data, elem(out.dtype, "rmsnorm_gated"), stream());
  });
}

void CudaBackend::quantize_activations_int8(Tensor& x, bool half_to_even) {
  on_f32(x, [&](Tensor& t) {
    launch("quantize_activations_int8",
           [&] { cuda::quantize_activations_int8_f32(t.as<float>(), t.rows(), t.cols(), half_to_even, stream()); });
  });
}

// The integer product: q (the quantised rows' integers) and the ternary weights are exact in the mode's GEMM type (bf16
// through cuBLASLt, or float32 with TF32 off), and so is their float32-accumulated product (|Σ q·t| < 2^24); one
// multiply by (1/s_row)·weight_scale then rounds once. In fp32 mode this is the float32 product of fla's quantised
// values up to the order of roundings; in bf16 mode it is the same numbers, where a bf16 product of q/s would round.
void CudaBackend::bitlinear(Tensor& x, const Tensor& ternary, float weight_scale, const Tensor* bias, bool half_to_even, Tensor& out) {
  bitlinear_of(x, nullptr, 0.0f, ternary, weight_scale, bias, half_to_even, out);
}

void CudaBackend::normed_bitlinear(const Tensor& x, const Tensor& input_norm, float eps, const Tensor& ternary,
                                   float weight_scale, const Tensor* bias, bool half_to_even, Tensor& out) {
  expect(input_norm.numel() == x.cols(), "bitlinear", "input norm shape");
  bitlinear_of(x, &input_norm, eps, ternary, weight_scale, bias, half_to_even, out);
}

void CudaBackend::bitlinear_of(const Tensor& x, const Tensor* norm, float eps, const Tensor& ternary, float weight_scale,
                               const Tensor* bias, bool half_to_even, Tensor& out) {
  const std::int64_t R = x.rows(), C = x.cols(), N = ternary.rows();
  expect(ternary.cols() == C && out.rows() == R && out.cols() == N, "bitlinear", "shape");
  expect(bias == nullptr || bias->numel() == N, "bitlinear", "bias shape");
  if (R == 0) return;
  const DType d = activation_dtype();
  const Tensor xs = x.dtype == DType::F32 || x.dtype == DType::BF16 ? x : as_dtype(x, DType::F32);
  const Tensor nf = norm ? as_dtype(*norm, DType::F32) : Tensor{};
  Tensor inv_scale = alloc(DType::F32, {R});
  const Tensor bf = bias ? as_dtype(*bias, DType::F32) : Tensor{};
  if (ternary.dtype == DType::I8) {  // int8 operands, int32 sums (quantize_weight_ternary chose it at load)
    Tensor q = alloc(DType::I8, {R, C});
    launch("quantize_activations_int8", [&] {
      cuda::quantize_activations_int8_rows_i8(xs.data, elem(xs.dtype, "bitlinear"), R, C, norm ? nf.as<float>() : nullptr, eps,
                                              half_to_even, q.as<std::int8_t>(), inv_scale.as<float>(), stream());
    });
    Tensor acc = alloc(DType::I32, {R, N});
    gemm_lt(ternary, 0, N, q, acc.data, DType::I32, N);
    launch("scale_rows", [&] {
      cuda::scale_rows_i32(acc.as<std::int32_t>(), inv_scale.as<float>(), weight_scale, bias ? bf.data : nullptr, cuda::Elem::F32,
                           R, N, out.data, elem(out.dtype, "bitlinear"), stream());
    });
    return;
  }
  Tensor q = alloc(d, {R, C});
  launch("quantize_activations_int8", [&] {
    cuda::quantize_activations_int8_rows(xs.data, elem(xs.dtype, "bitlinear"), R, C, norm ? nf.as<float>() : nullptr, eps,
                                         half_to_even, q.data, elem(d, "bitlinear"), inv_scale.as<float>(), stream());
  });
  Tensor acc = out.dtype == DType::F32 ? out : alloc(DType::F32, out.shape);
  linear(q, as_dtype(ternary, d), nullptr, acc);
  launch("scale_rows", [&] {
    cuda::scale_rows(acc.as<float>(), inv_scale.as<float>(), weight_scale, bias ? bf.data : nullptr, cuda::Elem::F32, R, N, out.data,
                     elem(out.dtype, "bitlinear"), stream());
  });
}

void CudaBackend::delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                       const DeltaRuleShape& s, Tensor& state, Tensor& out) {
  const std::int64_t T = q.rows(), H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, "delta_rule", "num_v_heads must be a multiple of num_heads");
  expect(q.cols() == H * dk && k.rows() == T && k.cols() == H * dk, "delta_rule", "q/k shape");
  expect(v.rows() == T && v.cols() == HV * dv && out.rows() == T && out.cols() == HV * dv, "delta_rule", "v/out shape");
  expect(beta.rows() == T && beta.cols() == HV, "delta_rule", "beta shape");
  expect(g == nullptr || (g->rows() == T && g->cols() == HV), "delta_rule", "g shape");
  expect(state.numel() == HV * dk * dv, "delta_rule", "state must be [num_v_heads, head_k_dim, head_v_dim]");
  if (!cuda::delta_rule_supported(dk)) {
    delta_rule_on_host(q, k, v, beta, g, s, state, out);
    return;
  }
  const DeltaRuleF32 f = delta_rule_f32_operands(q, k, v, beta, g, out);
  on_f32(state, [&](Tensor& st) {
    const cuda::DeltaRuleArgs a{f.q.as<float>(), f.k.as<float>(), f.v.as<float>(), f.beta.as<float>(), g ? f.g.as<float>() : nullptr,
                                st.as<float>(),  f.out.as<float>(), T, H, HV, dk, dv, s.scale};
    launch("delta_rule", [&] { cuda::delta_rule_f32(a, stream()); });
  });
  store_delta_rule_output(f, out);
}

CudaBackend::DeltaRuleF32 CudaBackend::delta_rule_f32_operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                                               const Tensor* g, const Tensor& out) {
  DeltaRuleF32 f{as_dtype(q, DType::F32), as_dtype(k, DType::F32), as_dtype(v, DType::F32), as_dtype(beta, DType::F32), {}, {}};
  if (g) f.g = as_dtype(*g, DType::F32);
  f.out = out.dtype == DType::F32 ? out : alloc(DType::F32, out.shape);
  return f;
}

void CudaBackend::store_delta_rule_output(const DeltaRuleF32& f, Tensor& out) {
  if (f.out.data != out.data) copy_rows(as_dtype(f.out, out.dtype), out, 0);
}

// A decoding step of the delta rule: the inputs converted once for all rows, then one launch per kMaxDecodeRows
// sequences, each block layer reading its sequence's state.
void CudaBackend::delta_rule_step_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                        const DeltaRuleShape& s, std::span<Tensor* const> states, Tensor& out) {
  const auto n = static_cast<std::int64_t>(states.size());
  const std::int64_t H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, "delta_rule_step_batch", "num_v_heads must be a multiple of num_heads");
  expect(q.rows() == n && q.cols() == H * dk && k.rows() == n && k.cols() == H * dk, "delta_rule_step_batch", "q/k shape");
  expect(v.rows() == n && v.cols() == HV * dv && out.rows() == n && out.cols() == HV * dv, "delta_rule_step_batch", "v/out shape");
  expect(beta.rows() == n && beta.cols() == HV && (g == nullptr || (g->rows() == n && g->cols() == HV)), "delta_rule_step_batch",
         "beta/g shape");
  bool f32_states = true;
  for (Tensor* st : states) {
    expect(st->numel() == HV * dk * dv, "delta_rule_step_batch", "each state must be [num_v_heads, head_k_dim, head_v_dim]");
    f32_states = f32_states && st->dtype == DType::F32;
  }
  if (!cuda::delta_rule_supported(dk) || !f32_states) {
    Backend::delta_rule_step_batch(q, k, v, beta, g, s, states, out);
    return;
  }
  const DeltaRuleF32 f = delta_rule_f32_operands(q, k, v, beta, g, out);
  for (std::int64_t r0 = 0; r0 < n; r0 += cuda::kMaxDecodeRows) {
    const int m = static_cast<int>(std::min<std::int64_t>(cuda::kMaxDecodeRows, n - r0));
    cuda::DecodeStates ds{};
    ds.n = m;
    for (int i = 0; i < m; ++i) ds.p[i] = states[static_cast<std::size_t>(r0 + i)]->as<float>();
    const cuda::DeltaRuleArgs a{f.q.as<float>() + r0 * H * dk, f.k.as<float>() + r0 * H * dk, f.v.as<float>() + r0 * HV * dv,
                                f.beta.as<float>() + r0 * HV,   g ? f.g.as<float>() + r0 * HV : nullptr,
                                nullptr,                        f.out.as<float>() + r0 * HV * dv,
                                1,                              H, HV, dk, dv, s.scale};
    launch("delta_rule_step_batch", [&] { cuda::delta_rule_step_batch_f32(a, ds, stream()); });
  }
  store_delta_rule_output(f, out);
}

void CudaBackend::delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                     const DeltaRuleShape& s, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  expect(chunk_size > 0, "delta_rule_chunked", "chunk_size must be positive");
  if (activation_dtype() != DType::BF16 || !cuda::delta_rule_chunked_supported(s.head_k_dim, s.head_v_dim) || q.rows() < 2) {
    delta_rule_recurrent(q, k, v, beta, g, s, state, out);
    return;
  }
  delta_rule_chunked_tensor_cores(q, k, v, beta, g, s, 1, state, out);
}

void CudaBackend::delta_rule_chunked_batch(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                           const Tensor* g, const DeltaRuleShape& s, std::int64_t chunk_size,
                                           std::int64_t batch, Tensor& out) {
  expect(chunk_size > 0 && batch > 0 && q.rows() % batch == 0, "delta_rule_chunked_batch", "rows must be batch x T");
  if (activation_dtype() != DType::BF16 || !cuda::delta_rule_chunked_supported(s.head_k_dim, s.head_v_dim) ||
      q.rows() / batch < 2) {
    Backend::delta_rule_chunked_batch(q, k, v, beta, g, s, chunk_size, batch, out);  // one sequence at a time
    return;
  }
  Tensor state = alloc(DType::F32, {batch * s.num_v_heads, s.head_k_dim, s.head_v_dim});
  fill(state, 0.0f);
  delta_rule_chunked_tensor_cores(q, k, v, beta, g, s, batch, state, out);
}

// The tensor-core kernel over `batch` sequences of q.rows() / batch tokens; state [batch × HV, dk, dv].
void CudaBackend::delta_rule_chunked_tensor_cores(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta,
                                                  const Tensor* g, const DeltaRuleShape& s, std::int64_t batch,
                                                  Tensor& state, Tensor& out) {
  const std::int64_t N = q.rows(), T = N / batch, H = s.num_heads, HV = s.num_v_heads, dk = s.head_k_dim, dv = s.head_v_dim;
  expect(H > 0 && HV % H == 0, "delta_rule_chunked", "num_v_heads must be a multiple of num_heads");
  expect(q.cols() == H * dk && k.rows() == N && k.cols() == H * dk, "delta_rule_chunked", "q/k shape");
  expect(v.rows() == N && v.cols() == HV * dv && out.rows() == N && out.cols() == HV * dv, "delta_rule_chunked", "v/out shape");
  expect(beta.rows() == N && beta.cols() == HV, "delta_rule_chunked", "beta shape");
  expect(g == nullptr || (g->rows() == N && g->cols() == HV), "delta_rule_chunked", "g shape");
  expect(state.numel() == batch * HV * dk * dv, "delta_rule_chunked", "state must be [num_v_heads, head_k_dim, head_v_dim] per sequence");
  // bf16 q, k, v in and out, as the kernels copy them (16-byte aligned; copies where a view is not)
  const Tensor qb = as_aligned_bf16(q), kb = as_aligned_bf16(k), vb = as_aligned_bf16(v), bf = as_dtype(beta, DType::F32);
  Tensor gf;
  if (g) gf = as_dtype(*g, DType::F32);
  const bool direct = out.dtype == DType::BF16 && aligned16(out.data);
  Tensor ob = direct ? out : alloc(DType::BF16, out.shape);
  const auto bytes = static_cast<std::int64_t>(cuda::delta_rule_chunked_workspace_bytes(T, batch * HV, dk, dv));
  Tensor work = alloc(DType::F32, {(bytes + 3) / 4});
  on_f32(state, [&](Tensor& st) {
    cuda::DeltaRuleChunkedArgs a{qb.data, kb.data, vb.data, bf.as<float>(), g ? gf.as<float>() : nullptr, st.as<float>(),
                                 ob.data, T, H, HV, dk, dv, s.scale};
    a.batch = batch;
    launch("delta_rule_chunked", [&] { cuda::delta_rule_chunked_bf16(a, work.data, stream()); });
  });
  if (!direct) copy_rows(as_dtype(ob, out.dtype), out, 0);
}

}  // namespace lmscope
