// Shared by the device micro-benchmarks (tools/device/kernel-ab, tools/device/la-passes; not tests): a launch
// sequence's mean time by CUDA events after a warm-up, and zeroed device buffers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// Microseconds per call of f, averaged over reps calls after warmup untimed ones; reports a failed launch.
template <typename F>
float timeit(F f, int reps = 20, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) f();
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  cudaEventRecord(a);
  for (int i = 0; i < reps; ++i) f();
  cudaEventRecord(b);
  cudaEventSynchronize(b);
  float ms = 0.f;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) std::printf("launch error: %s\n", cudaGetErrorString(e));
  return ms * 1000.f / reps;
}

// Zeroed device memory (the benchmarked kernels' time does not depend on the values), or exit on failure.
inline void* dev(std::int64_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    std::printf("cudaMalloc of %lld bytes failed\n", static_cast<long long>(bytes));
    std::exit(1);
  }
  cudaMemset(p, 0, bytes);
  return p;
}
