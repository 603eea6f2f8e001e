// CUDA smoke test: skips cleanly on machines without a GPU (CI); on the device it proves the kernels run.
#include <gtest/gtest.h>

#include "lmscope_kernels/cuda_device.h"

TEST(CudaDevice, ListsDevicesOrSkips) {
  const auto devices = lmscope::cuda::list_devices();
  if (devices.empty()) GTEST_SKIP() << "no CUDA device (" << lmscope::cuda::runtime_status() << "): skipping";
  EXPECT_GE(devices.front().compute_major, 8);
  EXPECT_GT(devices.front().total_memory, 0u);
}

TEST(CudaDevice, KernelRunsAndWritesEveryElement) {
  if (lmscope::cuda::list_devices().empty()) GTEST_SKIP() << "no CUDA device: skipping";
  EXPECT_EQ(lmscope::cuda::self_test(), "");
}
