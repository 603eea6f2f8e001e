// A block's normalisation: RMSNorm (most families) or LayerNorm with a bias (GPT-NeoX), or none where a layout has
// no norm at that place (OLMo 2 has none before its mixer). Which kind a model uses is the model's, not the norm's.
#pragma once

#include "backend/backend.h"

namespace lmscope {

enum class NormKind { Rms, Layer };

struct Norm {
  Tensor weight;  // [C]; empty: no norm here
  Tensor bias;    // [C] when has_bias (LayerNorm only)
  bool has_bias = false;
  bool present() const { return !weight.shape.empty(); }
};

// out = norm(x); with no norm, out = x (converted to out's type).
void apply_norm(Backend& b, NormKind kind, const Norm& n, float eps, const Tensor& x, Tensor& out);
// x += r, then out = norm(x) (fused where the backend fuses it).
void add_and_norm(Backend& b, NormKind kind, Tensor& x, const Tensor& r, const Norm& n, float eps, Tensor& out);

}  // namespace lmscope
