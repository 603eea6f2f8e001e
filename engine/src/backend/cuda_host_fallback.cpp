// CUDA backend ops that have no kernel yet: copy to the host, run the CPU reference, copy back. Correct and
// slow (a device round trip per call); they exist so DeltaNet, Gated DeltaNet and BitNet run on this backend
// while their kernels are written.
#include <cstring>

#include "backend/cpu_backend.h"
#include "backend/cuda_backend.h"

namespace lmscope {
namespace {

CpuBackend& cpu() {
  static CpuBackend backend;
  return backend;
}

}  // namespace

Tensor CudaBackend::to_host(const Tensor& device) {
  Tensor h = cpu().alloc(DType::F32, device.shape);  // float32 on the host whatever the device holds
  std::vector<float> tmp(static_cast<std::size_t>(device.numel()));
  download(device, tmp);
  std::memcpy(h.data, tmp.data(), tmp.size() * sizeof(float));
  return h;
}

void CudaBackend::to_device(const Tensor& host, Tensor& device) {
  upload(std::span<const float>(host.as<float>(), static_cast<std::size_t>(host.numel())), device);
}

void CudaBackend::activate(Tensor& x, Activation f) {
  Tensor h = to_host(x);
  cpu().activate(h, f);
  to_device(h, x);
}

void CudaBackend::scale(Tensor& x, float s) {
  Tensor h = to_host(x);
  cpu().scale(h, s);
  to_device(h, x);
}

void CudaBackend::fill(Tensor& x, float value) {
  std::vector<float> v(static_cast<std::size_t>(x.numel()), value);
  upload(v, x);
}

void CudaBackend::causal_conv1d(const Tensor& x, const Tensor& w, Tensor& state, bool silu, Tensor& out) {
  Tensor hx = to_host(x), hw = to_host(w), hs = to_host(state), ho = to_host(out);
  cpu().causal_conv1d(hx, hw, hs, silu, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::l2_normalize_heads(Tensor& x, std::int64_t head_dim, float eps) {
  Tensor h = to_host(x);
  cpu().l2_normalize_heads(h, head_dim, eps);
  to_device(h, x);
}

void CudaBackend::sum_normalize_heads(Tensor& x, std::int64_t head_dim) {
  Tensor h = to_host(x);
  cpu().sum_normalize_heads(h, head_dim);
  to_device(h, x);
}

void CudaBackend::decay_gate(Tensor& a, const Tensor& A_log, const Tensor& dt_bias) {
  Tensor ha = to_host(a), hA = to_host(A_log), hb = to_host(dt_bias);
  cpu().decay_gate(ha, hA, hb);
  to_device(ha, a);
}

void CudaBackend::rmsnorm_gated(const Tensor& x, const Tensor& w, const Tensor& gate, float eps, Tensor& out) {
  Tensor hx = to_host(x), hw = to_host(w), hg = to_host(gate), ho = to_host(out);
  cpu().rmsnorm_gated(hx, hw, hg, eps, ho);
  to_device(ho, out);
}

void CudaBackend::delta_rule_recurrent(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                       const DeltaRuleShape& shape, Tensor& state, Tensor& out) {
  Tensor hq = to_host(q), hk = to_host(k), hv = to_host(v), hb = to_host(beta), hs = to_host(state), ho = to_host(out);
  Tensor hg;
  if (g) hg = to_host(*g);
  cpu().delta_rule_recurrent(hq, hk, hv, hb, g ? &hg : nullptr, shape, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::delta_rule_chunked(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                     const DeltaRuleShape& shape, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  Tensor hq = to_host(q), hk = to_host(k), hv = to_host(v), hb = to_host(beta), hs = to_host(state), ho = to_host(out);
  Tensor hg;
  if (g) hg = to_host(*g);
  cpu().delta_rule_chunked(hq, hk, hv, hb, g ? &hg : nullptr, shape, chunk_size, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::quantize_activations_int8(Tensor& x) {
  Tensor h = to_host(x);
  cpu().quantize_activations_int8(h);
  to_device(h, x);
}

void CudaBackend::quantize_weight_ternary(const Tensor& w, Tensor& out) {
  Tensor hw = to_host(w), ho = to_host(out);
  cpu().quantize_weight_ternary(hw, ho);
  to_device(ho, out);
}

}  // namespace lmscope
