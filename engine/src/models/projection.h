// One linear map of a block, as stored in a checkpoint: x·Wᵀ (+ bias), or a BitLinear (BitNet b1.58), which
// quantises each row of x to 8 bits and multiplies with ternary weights {-1, 0, +1}:
// - fla's BitLinear: float weights quantised once at load (absmean scale), x normalised by the projection's own
//   RMSNorm first, halves rounded away from zero (fla's Triton kernel);
// - transformers' BitLinear (quantization_config linear_class "bitlinear", offline): weights stored packed four to a
//   byte with a weight_scale that divides the product;
// - transformers' AutoBitLinear: offline, packed weights whose weight_scale multiplies the product; online, float
//   weights quantised at load as fla's are. Both round halves to even (torch.round).
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "lmscope/checkpoint.h"

namespace lmscope {

class WeightSet;

struct Projection {
  Tensor weight;  // [out, in]
  Tensor bias;    // [out] when has_bias
  bool has_bias = false;
  bool bitlinear = false;
  Tensor input_norm;  // [in]: RMSNorm before the quantiser (fla's BitLinear; transformers' with use_rms_norm)
  float input_norm_eps = 1e-6f;
  bool round_half_even = false;  // the activation quantiser's rounding: torch.round (transformers) vs fla's kernel
  // BitLinear: weight holds the ternary values themselves; out_scale multiplies the product (the weight quantiser's
  // 1/s, or transformers' packed weight_scale / its inverse)
  float out_scale = 1.0f;
  std::int64_t out_features() const { return weight.rows(); }
};

// How a family's projections are stored and computed.
struct ProjectionFormat {
  enum class Kind {
    Plain,                     // x·Wᵀ
    FlaBitLinear,              // name.weight (float, quantised at load) + name.norm.weight
    PackedBitLinear,           // name.weight (U8, [out/4, in]) + name.weight_scale [1]: product / scale
    PackedAutoBitLinear,       // the same tensors: product · scale
    OnlineAutoBitLinear,       // name.weight (float, quantised at load)
  };
  Kind kind = Kind::Plain;
  bool input_norm = false;  // transformers' use_rms_norm: name.rms_norm.weight before the quantiser
  float input_norm_eps = 1e-6f;
};

// Declares (and, loading, loads) one projection: name is the module path without ".weight",
// e.g. "model.layers.0.self_attn.q_proj".
Projection declare_projection(WeightSet& ws, const std::string& name, std::int64_t out_features, std::int64_t in_features,
                              bool bias, const ProjectionFormat& format = {});

// Rows [row0, row0 + n) of a fused projection (its weight rows and bias elements), sharing its storage: Phi-3's
// qkv_proj and gate_up_proj, Mamba's in_proj and x_proj are several projections stacked. A declaration's
// placeholder gives a placeholder of the part's shape.
Projection projection_rows(const Projection& fused, std::int64_t row0, std::int64_t n);

// out [T, out_features] for x [T, in].
void project(Backend& backend, const Projection& p, const Tensor& x, Tensor& out);

// transformers' 2-bit packing, undone: packed [R, C] bytes hold rows i·R + r (i = 0..3) of the ternary matrix in
// bits 2i, 2i+1 of byte (r, c), as value + 1. Returns the [4R, C] values {-1, 0, +1}.
std::vector<float> unpack_ternary(const unsigned char* packed, std::int64_t R, std::int64_t C);

}  // namespace lmscope
