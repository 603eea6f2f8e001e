#include <cuda_runtime.h>

#include "lmscope_kernels/cuda_device.h"

namespace lmscope::cuda {
namespace {

// One thread per element: out[i] = a * i + b. Launch shape: ceil(n / 256) blocks of 256; n floats written.
__global__ void affine_iota(float* out, int n, float a, float b) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a * static_cast<float>(i) + b;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return {};
  }
  std::vector<DeviceInfo> out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    DeviceInfo d{i, p.name, p.major, p.minor, static_cast<std::uint64_t>(p.totalGlobalMem), p.multiProcessorCount};
    // Attributes, not cudaDeviceProp fields: CUDA 13 dropped the clock fields from the struct.
    cudaDeviceGetAttribute(&d.sm_clock_khz, cudaDevAttrClockRate, i);
    cudaDeviceGetAttribute(&d.memory_clock_khz, cudaDevAttrMemoryClockRate, i);
    cudaDeviceGetAttribute(&d.memory_bus_bits, cudaDevAttrGlobalMemoryBusWidth, i);
    cudaGetLastError();  // an attribute a driver does not report stays 0
    out.push_back(d);
  }
  return out;
}

std::string runtime_status() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return cudaGetErrorString(e);
  }
  return n == 0 ? "no CUDA device" : "ok";
}

std::string self_test() {
  constexpr int n = 1000;
  float* d = nullptr;
  cudaError_t e = cudaMalloc(&d, n * sizeof(float));
  if (e != cudaSuccess) return std::string("cudaMalloc: ") + cudaGetErrorString(e);
  affine_iota<<<(n + 255) / 256, 256>>>(d, n, 2.0f, 1.0f);
  e = cudaGetLastError();
  std::vector<float> h(n);
  if (e == cudaSuccess) e = cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(d);
  if (e != cudaSuccess) return std::string("kernel: ") + cudaGetErrorString(e);
  for (int i = 0; i < n; ++i)
    if (h[i] != 2.0f * i + 1.0f) return "kernel wrote a wrong value at " + std::to_string(i);
  return "";
}

}  // namespace lmscope::cuda
