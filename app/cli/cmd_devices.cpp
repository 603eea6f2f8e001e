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
  for (const auto& d : devices)
    std::printf("cuda:%d %s, compute %d.%d, %.1f GiB, %d SMs\n", d.index, d.name.c_str(), d.compute_major, d.compute_minor,
                static_cast<double>(d.total_memory) / (1 << 30), d.multiprocessors);
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
