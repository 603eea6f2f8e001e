// CUDA device discovery. Plain C++ header: the engine includes it without nvcc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmscope::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  std::uint64_t total_memory = 0;
  int multiprocessors = 0;
};

// Empty when there is no driver or no device (never throws).
std::vector<DeviceInfo> list_devices();
// Why list_devices() is empty, in words ("no CUDA driver", "no device", ...), or "ok".
std::string runtime_status();

// Launches a trivial kernel on device 0 and checks its result: proves the build's device code runs there.
// Returns an empty string on success, else the error.
std::string self_test();

}  // namespace lmscope::cuda
