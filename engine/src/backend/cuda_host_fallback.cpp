// CUDA backend ops for shapes no kernel covers: copy to the host, run the CPU reference, copy back. Correct and slow
// (a device round trip per call), and said once per op on stderr: the delta rule for head_k_dim > 256, and gated
// linear attention, Mamba's selective scan and Mamba2's SSD for key / state dims > 256 (no shipped family's
// configuration has those; every op the families use on the scoring and decoding paths has a kernel).
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "backend/cpu_backend.h"
#include "backend/cuda_backend.h"
#include "lmscope_kernels/op_profile.h"

namespace lmscope {
namespace {

CpuBackend& cpu() {
  static CpuBackend backend;
  return backend;
}

}  // namespace

void CudaBackend::note_host_fallback(const char* op, const std::string& why) {
  static std::mutex mu;
  static std::set<std::string> said;
  const std::lock_guard<std::mutex> lock(mu);
  if (!said.insert(op).second) return;
  std::fprintf(stderr, "lmscope cuda: %s runs on the host (no kernel for %s): correct but slow\n", op, why.c_str());
}

Tensor CudaBackend::to_host(const Tensor& device) {
  cuda::OpTimer timer("host fallback: download");
  Tensor h = cpu().alloc(DType::F32, device.shape);  // float32 on the host whatever the device holds
  std::vector<float> tmp(static_cast<std::size_t>(device.numel()));
  download(device, tmp);
  std::memcpy(h.data, tmp.data(), tmp.size() * sizeof(float));
  return h;
}

void CudaBackend::to_device(const Tensor& host, Tensor& device) {
  cuda::OpTimer timer("host fallback: upload");
  upload(std::span<const float>(host.as<float>(), static_cast<std::size_t>(host.numel())), device);
}

// Head dims the register-resident delta-rule kernel does not cover (head_k_dim > 256) run here.
void CudaBackend::delta_rule_on_host(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const Tensor* g,
                                     const DeltaRuleShape& shape, Tensor& state, Tensor& out) {
  note_host_fallback("delta_rule", "head_k_dim " + std::to_string(shape.head_k_dim) + " > 256");
  Tensor hq = to_host(q), hk = to_host(k), hv = to_host(v), hb = to_host(beta), hs = to_host(state), ho = to_host(out);
  Tensor hg;
  if (g) hg = to_host(*g);
  cpu().delta_rule_recurrent(hq, hk, hv, hb, g ? &hg : nullptr, shape, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::gated_linear_attention_on_host(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g,
                                                 const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                                                 Tensor& out) {
  Tensor hq = to_host(q), hk = to_host(k), hv = to_host(v), hg = to_host(g), hs = to_host(state), ho = to_host(out);
  cpu().gated_linear_attention(hq, hk, hv, hg, shape, chunk_size, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::selective_scan_on_host(const Tensor& x, const Tensor& delta, const Tensor& A_log, const Tensor& B,
                                         const Tensor& C, const Tensor& D, std::int64_t chunk_size, Tensor& state, Tensor& out) {
  Tensor hx = to_host(x), hd = to_host(delta), ha = to_host(A_log), hB = to_host(B), hC = to_host(C), hD = to_host(D);
  Tensor hs = to_host(state), ho = to_host(out);
  cpu().selective_scan(hx, hd, ha, hB, hC, hD, chunk_size, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

void CudaBackend::ssd_on_host(const Tensor& x, const Tensor& dt, const Tensor& A_log, const Tensor& B, const Tensor& C,
                              const Tensor& D, const LinearAttentionShape& shape, std::int64_t chunk_size, Tensor& state,
                              Tensor& out) {
  Tensor hx = to_host(x), hd = to_host(dt), ha = to_host(A_log), hB = to_host(B), hC = to_host(C), hD = to_host(D);
  Tensor hs = to_host(state), ho = to_host(out);
  cpu().ssd(hx, hd, ha, hB, hC, hD, shape, chunk_size, hs, ho);
  to_device(hs, state);
  to_device(ho, out);
}

}  // namespace lmscope
