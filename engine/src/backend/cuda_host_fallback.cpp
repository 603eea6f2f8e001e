// CUDA backend ops that have no kernel: copy to the host, run the CPU reference, copy back. Correct and slow (a
// device round trip per call): BitNet's ternary weight quantisation (once per weight, at load) and the delta rule
// for head_k_dim > 256.
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

// Head dims the register-resident delta-rule kernel does not cover (head_k_dim > 256) run here.
void CudaBackend::delta_rule_on_host(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                     const DeltaRuleShape& shape, Tensor& state, Tensor& out) {
  Tensor hq = to_host(q), hk = to_host(k), hv = to_host(v), hb = to_host(beta), hs = to_host(state), ho = to_host(out);
  Tensor hg;
  if (g) hg = to_host(*g);
  cpu().delta_rule_recurrent(hq, hk, hv, hb, g ? &hg : nullptr, shape, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::quantize_weight_ternary(const Tensor& w, Tensor& out) {
  Tensor hw = to_host(w), ho = to_host(out);
  cpu().quantize_weight_ternary(hw, ho);
  to_device(ho, out);
}

}  // namespace lmscope
