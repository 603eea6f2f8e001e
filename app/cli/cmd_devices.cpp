#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"

#ifdef LMSCOPE_HAVE_CUDA
#include "lmscope_kernels/cuda_device.h"
#endif

namespace lmscope::cli {

int cmd_devices(const Argv& argv) {
  Args args("devices", argv, {}, {"self-test"});
  std::printf("backends: cpu (float32 reference)\n");
#ifdef LMSCOPE_HAVE_CUDA
  const auto devices = cuda::list_devices();
  if (devices.empty()) std::printf("cuda: built in; %s\n", cuda::runtime_status().c_str());
  for (const auto& d : devices) {
    const cuda::DeviceLimits limits = cuda::device_limits(d);
    std::printf("cuda:%d %s, compute %d.%d, %.1f GiB, %d SMs, %.0f GB/s DRAM", d.index, d.name.c_str(), d.compute_major,
                d.compute_minor, static_cast<double>(d.total_memory) / (1 << 30), d.multiprocessors, limits.dram_gb_per_s);
    if (limits.bf16_tflops > 0) std::printf(", %.0f dense bf16 TFLOP/s at %.2f GHz", limits.bf16_tflops, d.sm_clock_khz / 1e6);
    std::printf("\n");
  }
  if (args.flag("self-test") && !devices.empty()) {
    const std::string err = cuda::self_test();
    std::printf("cuda self-test: %s\n", err.empty() ? "ok" : err.c_str());
    return err.empty() ? 0 : 1;
  }
#else
  std::printf("cuda: not built (configure with -DLMSCOPE_CUDA=ON where nvcc exists)\n");
#endif
  return 0;
}

}  // namespace lmscope::cli
