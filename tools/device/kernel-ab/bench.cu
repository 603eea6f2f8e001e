// Device micro-benchmark (tools/device/kernel-ab/kernel-ab.sh; not a test): the bandwidth-bound kernels of this tree
// against an earlier revision's (compiled into namespace lmscope::oldcuda), beside a copy kernel moving the same bytes.
#include <cstdint>
#include <cstdio>
#include "lmscope_kernels/ops.h"
#include "../device_bench.cuh"

namespace lmscope::oldcuda {
enum class Elem { F32, BF16 };
void causal_conv1d_batch(const void* x, Elem x_t, const float* w, const float* bias, std::int64_t T, std::int64_t batch,
                         std::int64_t C, std::int64_t K, bool silu, void* out, Elem out_t, cudaStream_t stream);
void rmsnorm_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                   std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
void rmsnorm_of_gated(const void* x, Elem x_t, const float* w, const void* gate, Elem gate_t, float eps, std::int64_t R,
                      std::int64_t C, void* out, Elem out_t, cudaStream_t stream);
void rope(void* x, Elem x_t, std::int64_t T, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          std::int64_t half, std::int64_t pos0, std::int64_t period, cudaStream_t stream);
}  // namespace lmscope::oldcuda

namespace now = lmscope::cuda;
namespace old = lmscope::oldcuda;

__global__ void copy16(const uint4* __restrict__ a, uint4* __restrict__ b, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n; i += (std::int64_t)gridDim.x * blockDim.x) b[i] = a[i];
}


int main() {
  const std::int64_t N = 16384;
  for (int C : {1536, 3072, 4096, 128}) {
    void *x = dev(N * C * 2), *o = dev(N * C * 2);
    float* w = static_cast<float*>(dev(C * 16));
    const double mb = 2.0 * N * C * 2 / 1e6;
    const float tc = timeit([&] { copy16<<<132 * 16, 256>>>((const uint4*)x, (uint4*)o, N * C * 2 / 16); });
    const float t_old = timeit([&] { old::causal_conv1d_batch(x, old::Elem::BF16, w, nullptr, 2048, 8, C, 4, true, o, old::Elem::BF16, nullptr); });
    const float t_new = timeit([&] { now::causal_conv1d_batch(x, now::Elem::BF16, w, nullptr, 2048, 8, C, 4, true, o, now::Elem::BF16, nullptr); });
    std::printf("conv 16384 x %4d K 4 silu (%.0f MB): copy %.1f us | HEAD %.1f us | now %.1f us\n", C, mb, tc, t_old, t_new);
    cudaFree(x); cudaFree(o); cudaFree(w);
  }
  struct Norm { const char* what; std::int64_t R, C; bool gate_first; };
  for (const Norm n : {Norm{"RetNet/GLA after-norm", 16384 * 8, 512, false}, Norm{"GDN after-norm", 16384 * 6, 512, false},
                       Norm{"Mamba2 gate-first", 16384, 4096, true}}) {
    void *x = dev(n.R * n.C * 2), *g = dev(n.R * n.C * 2), *o = dev(n.R * n.C * 2);
    float* w = static_cast<float*>(dev(n.C * 4));
    const double mb = 3.0 * n.R * n.C * 2 / 1e6;
    const float tc = timeit([&] { copy16<<<132 * 16, 256>>>((const uint4*)x, (uint4*)o, n.R * n.C * 2 / 16); });
    auto run_old = [&] { (n.gate_first ? old::rmsnorm_of_gated : old::rmsnorm_gated)(x, old::Elem::BF16, w, g, old::Elem::BF16, 1e-5f, n.R, n.C, o, old::Elem::BF16, nullptr); };
    auto run_new = [&] { (n.gate_first ? now::rmsnorm_of_gated : now::rmsnorm_gated)(x, now::Elem::BF16, w, g, now::Elem::BF16, 1e-5f, n.R, n.C, o, now::Elem::BF16, nullptr); };
    const float t_old = timeit(run_old), t_new = timeit(run_new);
    std::printf("%s [%lld, %lld] (%.0f MB; a copy of 2/3 of it %.1f us): HEAD %.1f us | now %.1f us\n", n.what, (long long)n.R,
                (long long)n.C, mb, tc, t_old, t_new);
    cudaFree(x); cudaFree(g); cudaFree(o); cudaFree(w);
  }
  for (auto [heads, hd] : {std::pair<int, int>{8, 256}, {32, 64}}) {
    void* x = dev(N * heads * hd * 2);
    float *c = static_cast<float*>(dev(2048 * hd / 2 * 4)), *s = static_cast<float*>(dev(2048 * hd / 2 * 4));
    const float t_old = timeit([&] { old::rope(x, old::Elem::BF16, N, heads, hd, c, s, hd / 2, 0, 2048, nullptr); });
    const float t_new = timeit([&] { now::rope(x, now::Elem::BF16, N, heads, hd, c, s, hd / 2, 0, 2048, nullptr); });
    std::printf("rope 16384 x %d heads x %d (%.0f MB moved): HEAD %.1f us | now %.1f us\n", heads, hd, 2.0 * N * heads * hd * 2 / 1e6, t_old, t_new);
    cudaFree(x); cudaFree(c); cudaFree(s);
  }
  return 0;
}
