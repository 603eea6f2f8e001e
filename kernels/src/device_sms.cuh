// The current device's multiprocessor count, for launches that size their grid to fill the GPU (split work across
// more blocks when one pass alone would leave SMs idle). Asked once per device and kept.
#pragma once

#include <atomic>

namespace lmscope::cuda {

inline int current_device_sms() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> cached[kMaxDevices] = {};
  int device = 0;
  cudaGetDevice(&device);
  const bool cacheable = device >= 0 && device < kMaxDevices;
  if (cacheable) {
    if (const int n = cached[device].load(std::memory_order_relaxed); n > 0) return n;
  }
  int count = 0;
  cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
  if (count < 1) count = 1;
  if (cacheable) cached[device].store(count, std::memory_order_relaxed);
  return count;
}

}  // namespace lmscope::cuda
