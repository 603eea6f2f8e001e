// The current device's multiprocessor count, for launches that size their grid to fill the GPU (split work across
// more blocks when one pass alone would leave SMs idle), and whether it is an sm_90 (the only GPU that runs the
// sm_90a wgmma kernels). Asked once per device and kept: kernels launch thousands of times per pass.
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

inline bool current_device_is_sm90() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> cached[kMaxDevices] = {};  // 0: not asked yet, 1: no, 2: yes
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  const bool cacheable = device >= 0 && device < kMaxDevices;
  if (cacheable) {
    if (const int known = cached[device].load(std::memory_order_relaxed); known > 0) return known == 2;
  }
  int major = 0, minor = 0;
  const bool sm90 = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess &&
                    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) == cudaSuccess &&
                    major == 9 && minor == 0;
  if (cacheable) cached[device].store(sm90 ? 2 : 1, std::memory_order_relaxed);
  return sm90;
}

}  // namespace lmscope::cuda
