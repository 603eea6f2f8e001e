// The activations as scalar functions: the CPU backend's definition of each, which the CUDA kernels mirror.
#pragma once

#include <algorithm>
#include <cmath>

#include "backend/backend.h"

namespace lmscope::cpu {

inline float activation_value(float v, Activation f) {
  switch (f) {
    case Activation::Silu: return v / (1.0f + std::exp(-v));
    case Activation::Sigmoid: return 1.0f / (1.0f + std::exp(-v));
    case Activation::Relu: return std::max(v, 0.0f);
    case Activation::EluPlusOne: return v > 0 ? v + 1.0f : std::exp(v);
    case Activation::Softplus: return v > 20.0f ? v : std::log1p(std::exp(v));  // torch's threshold: linear above 20
    case Activation::LogSigmoid: return std::min(v, 0.0f) - std::log1p(std::exp(-std::fabs(v)));  // no overflow
    case Activation::GeluTanh: {  // torch's gelu(approximate="tanh"), transformers' gelu_pytorch_tanh
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      return 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    }
    case Activation::Gelu: return 0.5f * v * (1.0f + std::erf(v * 0.7071067811865476f));  // exact (erf) gelu
    case Activation::ReluSquared: {
      const float r = std::max(v, 0.0f);
      return r * r;
    }
  }
  return v;
}

}  // namespace lmscope::cpu
