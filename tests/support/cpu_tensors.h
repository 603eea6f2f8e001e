// Small float32 tensors on the CPU backend for the op tests.
#pragma once

#include <random>
#include <vector>

#include "backend/cpu_backend.h"

namespace lmscope::test {

inline CpuBackend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

inline Tensor make(std::vector<std::int64_t> shape, const std::vector<float>& values) {
  Tensor t = cpu_backend().alloc(DType::F32, std::move(shape));
  cpu_backend().upload(values, t);
  return t;
}

inline Tensor random_tensor(std::vector<std::int64_t> shape, std::mt19937& rng, float lo = -1, float hi = 1) {
  Tensor t = cpu_backend().alloc(DType::F32, std::move(shape));
  std::uniform_real_distribution<float> u(lo, hi);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.as<float>()[i] = u(rng);
  return t;
}

inline std::vector<float> values(const Tensor& t) { return {t.as<float>(), t.as<float>() + t.numel()}; }

}  // namespace lmscope::test
