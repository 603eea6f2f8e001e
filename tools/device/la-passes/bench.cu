// Device micro-benchmark (tools/device/la-passes/run.sh; not a test): the chunked linear attention at the 1.3B
// families' shapes (RetNet, GLA, HGRN2, Mamba2's SSD), one layer's prepare + state + output, with the automatic
// choice of state pass (with every kernel, then mma.sync only) and each pass forced (fused on the wgmma kernel with
// one CTA or a pair per tile, fused on mma.sync with 64- or 32-column tiles, segmented into 1, 2, 4, 8): the
// numbers behind fused_cols_tile's and state_segments' rules. Zeroed inputs and a constant decay (the kernels' time
// does not depend on the values).
#include <cstdint>
#include <cstdio>
#include <vector>
#include "lmscope_kernels/ops.h"
#include "../device_bench.cuh"

using Args = lmscope::cuda::LinearAttentionChunkedArgs;
using Kernel = lmscope::cuda::LinearAttentionKernel;
struct Pass { const char* what; Args::StatePass pass; int segs, cols; Kernel kernel; };


struct Shape { const char* what; std::int64_t H, HV, dk, dv; bool per_channel, ssd; };

int main() {
  const std::int64_t N = 16384;
  const Shape shapes[] = {{"RetNet-1.3B (8 heads, dk 256, dv 512, per head)", 8, 8, 256, 512, false, false},
                          {"GLA-1.3B (4 heads, dk 256, dv 512, per channel)", 4, 4, 256, 512, true, false},
                          {"HGRN2-1.3B (16 heads, dk 128, dv 128, per channel)", 16, 16, 128, 128, true, false},
                          {"Mamba2-1.3B SSD (64 heads, 1 group, dk 128, dv 64)", 1, 64, 128, 64, false, true}};
  constexpr std::int64_t kWorkspace = std::int64_t{4} << 30;
  void* work = dev(kWorkspace);
  for (const Shape& sh : shapes) {
    const std::int64_t H = sh.H, HV = sh.HV, dk = sh.dk, dv = sh.dv;
    void *q = dev(N * H * dk * 2), *k = dev(N * H * dk * 2), *v = dev(N * HV * dv * 2), *o = dev(N * HV * dv * 2);
    float* state = static_cast<float*>(dev(8 * HV * dk * dv * 4));
    const std::int64_t gcols = sh.per_channel ? HV * dk : HV;
    std::vector<float> g(N * gcols, sh.ssd ? 0.05f : -0.03f), A(HV, 0.f), D(HV, 1.f);
    float* gd = static_cast<float*>(dev(N * gcols * 4));
    cudaMemcpy(gd, g.data(), N * gcols * 4, cudaMemcpyHostToDevice);
    float *Ad = static_cast<float*>(dev(HV * 4)), *Dd = static_cast<float*>(dev(HV * 4));
    cudaMemcpy(Ad, A.data(), HV * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(Dd, D.data(), HV * 4, cudaMemcpyHostToDevice);
    auto args = [&](std::int64_t batch) {
      Args a{};
      a.q = q; a.k = k; a.v = v; a.out = o; a.state = state; a.g = gd; a.g_cols = gcols;
      a.g_per_token = sh.per_channel || sh.ssd; a.per_channel = sh.per_channel;
      if (sh.ssd) { a.A_log = Ad; a.D = Dd; }
      a.T = N / batch; a.H = H; a.HV = HV; a.dk = dk; a.dv = dv; a.batch = batch; a.scale = sh.ssd ? 1.f : 0.0625f;
      return a;
    };
    for (std::int64_t batch : {1, 8}) {
      std::printf("== %s, %lld x %lld: prepare + state + output, us per layer (auto, then each pass forced)\n", sh.what, (long long)batch, (long long)(N / batch));
      const Pass passes[] = {{"auto", Args::StatePass::Auto, 0, 0, Kernel::Auto},
                             {"auto, mma", Args::StatePass::Auto, 0, 0, Kernel::MmaSync},
                             {"fused wgmma 1", Args::StatePass::Fused, 0, 64, Kernel::Wgmma},
                             {"fused wgmma 2", Args::StatePass::Fused, 0, 64, Kernel::WgmmaPair},
                             {"fused 64 cols", Args::StatePass::Fused, 0, 64, Kernel::MmaSync},
                             {"fused 32 cols", Args::StatePass::Fused, 0, 32, Kernel::MmaSync},
                             {"segmented 1", Args::StatePass::Segmented, 1, 0, Kernel::Auto},
                             {"segmented 2", Args::StatePass::Segmented, 2, 0, Kernel::Auto},
                             {"segmented 4", Args::StatePass::Segmented, 4, 0, Kernel::Auto},
                             {"segmented 8", Args::StatePass::Segmented, 8, 0, Kernel::Auto}};
      for (const Pass& pp : passes) {
        if (pp.cols == 64 && dv % 64 != 0) continue;
        if ((pp.kernel == Kernel::Wgmma || pp.kernel == Kernel::WgmmaPair) && (dk != 256 || sh.ssd)) continue;  // mma.sync there
        Args a = args(batch);
        lmscope::cuda::set_linear_attention_chunked_kernel(pp.kernel);
        a.state_pass = pp.pass; a.state_segments = pp.segs; a.fused_cols = pp.cols;
        if (lmscope::cuda::linear_attention_chunked_workspace_bytes(a) > kWorkspace) {
          std::printf("  %-14s workspace over %lld bytes\n", pp.what, (long long)kWorkspace);
          continue;
        }
        std::printf("  %-14s %8.1f\n", pp.what, timeit([&] { lmscope::cuda::linear_attention_chunked_bf16(a, work, nullptr); }, 10, 2));
      }
    }
    cudaFree(q); cudaFree(k); cudaFree(v); cudaFree(o); cudaFree(state); cudaFree(gd); cudaFree(Ad); cudaFree(Dd);
  }
  return 0;
}
