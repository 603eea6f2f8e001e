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
  int sm_clock_khz = 0;      // the maximum (boost) clock the device reports
  int memory_clock_khz = 0;  // the memory's peak clock
  int memory_bus_bits = 0;
};

// The device's limits from its properties, so a benchmark can say how far from them it is: dense bf16 tensor-core
// FLOP/s at the reported maximum clock (SMs × clock × FLOPs per SM per clock: 2048 on sm_80, 4096 on sm_90 — the
// data-centre parts; 0 where we do not know the rate, such as the consumer parts whose fp32-accumulate rate differs
// by product) and DRAM bandwidth (two transfers per memory clock across the bus).
struct DeviceLimits {
  double bf16_tflops = 0;
  double dram_gb_per_s = 0;
};
inline DeviceLimits device_limits(const DeviceInfo& d) {
  DeviceLimits l;
  const int flops_per_sm_clock = d.compute_major == 8 && d.compute_minor == 0 ? 2048 : d.compute_major == 9 ? 4096 : 0;
  l.bf16_tflops = static_cast<double>(d.multiprocessors) * d.sm_clock_khz * 1e3 * flops_per_sm_clock / 1e12;
  l.dram_gb_per_s = 2.0 * d.memory_clock_khz * 1e3 * (d.memory_bus_bits / 8.0) / 1e9;
  return l;
}

// Empty when there is no driver or no device (never throws).
std::vector<DeviceInfo> list_devices();
// Why list_devices() is empty, in words ("no CUDA driver", "no device", ...), or "ok".
std::string runtime_status();

// Launches a trivial kernel on device 0 and checks its result: proves the build's device code runs there.
// Returns an empty string on success, else the error.
std::string self_test();

}  // namespace lmscope::cuda
