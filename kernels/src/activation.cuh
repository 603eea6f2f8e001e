// The activations on the device, by the codes of ops.h's activate(): the same functions as the CPU backend's
// activation_math.h (fast-math intrinsics where the CPU uses libm: within a few float32 ulps).
#pragma once

namespace lmscope::cuda {

__device__ __forceinline__ float activation_value(float v, int f) {
  switch (f) {
    case 0: return v / (1.0f + __expf(-v));                      // silu
    case 1: return 1.0f / (1.0f + __expf(-v));                   // sigmoid
    case 2: return fmaxf(v, 0.0f);                               // relu
    case 3: return v > 0.0f ? v + 1.0f : expf(v);                // elu + 1
    case 4: return v > 20.0f ? v : log1pf(expf(v));              // softplus, torch's threshold
    case 5: return fminf(v, 0.0f) - log1pf(expf(-fabsf(v)));     // log-sigmoid
    case 6: return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));  // gelu, tanh form
    case 7: return 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));                            // gelu, exact
    default: {                                                   // relu²
      const float r = fmaxf(v, 0.0f);
      return r * r;
    }
  }
}

}  // namespace lmscope::cuda
