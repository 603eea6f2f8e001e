// The CPU backend's BitNet b1.58 quantisers, float32 step for step as fla's BitLinear computes them, so that the
// same values come out (a difference of one rounding step would move a weight between −1, 0 and +1).
#include <algorithm>
#include <cmath>

#include "backend/cpu_backend.h"
#include "backend/cpu_expect.h"

namespace lmscope {

using cpu::expect;
using cpu::expect_f32;
using cpu::worth_threads;

void CpuBackend::quantize_activations_int8(Tensor& x, bool half_to_even) {
  expect_f32(x, "quantize_activations_int8");
  const std::int64_t R = x.rows(), C = x.cols();
  float* xs = x.as<float>();
#pragma omp parallel for if (worth_threads(R * C))
  for (std::int64_t r = 0; r < R; ++r) {
    float* row = xs + r * C;
    float mx = 0.0f;
    for (std::int64_t c = 0; c < C; ++c) mx = std::max(mx, std::fabs(row[c]));
    const float s = 127.0f / std::max(mx, 1e-5f);
    // std::round rounds halves away from zero, as libdevice's round in fla's Triton kernel; std::nearbyint in the
    // default rounding mode rounds them to even, as torch.round
    for (std::int64_t c = 0; c < C; ++c) {
      const float q = half_to_even ? std::nearbyint(row[c] * s) : std::round(row[c] * s);
      row[c] = std::clamp(q, -128.0f, 127.0f) / s;
    }
  }
}

Tensor CpuBackend::quantize_weight_ternary(const Tensor& w, float* scale) {
  expect_f32(w, "quantize_weight_ternary");
  const std::int64_t n = w.numel();
  const float* ws = w.as<float>();
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::fabs(ws[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float s = 1.0f / std::max(mean, 1e-5f);
  Tensor out = alloc(DType::F32, w.shape);
  float* os = out.as<float>();
  // std::nearbyint in the default rounding mode rounds halves to even, as torch.round
  for (std::int64_t i = 0; i < n; ++i) os[i] = std::clamp(std::nearbyint(ws[i] * s), -1.0f, 1.0f);
  *scale = 1.0f / s;
  return out;
}

}  // namespace lmscope
