// A block's feed-forward network. Gated (a GLU): down(f(gate(h)) · up(h)) — SwiGLU in Llama and most families,
// GeGLU (gelu, tanh form) in Gemma 2, relu² in transformers' BitNet, which also normalises the product (its
// ffn_sub_norm) before down. Plain: down(f(up(h))) — GPT-NeoX's dense_h_to_4h / gelu / dense_4h_to_h.
#pragma once

#include <string>
#include <vector>

#include "models/norm.h"
#include "models/projection.h"

namespace lmscope {

class WeightSet;

struct FeedForward {
  bool gated = true;
  Activation act = Activation::Silu;
  Projection gate, up, down;  // plain: gate unused
  Norm sub_norm;              // RMSNorm of f(gate)·up before down (transformers' BitNet); absent elsewhere
  float sub_norm_eps = 1e-6f;
};

// The usual gated MLP with tensors gate_proj, up_proj, down_proj under prefix (e.g. "model.layers.0.mlp.").
FeedForward declare_gated_mlp(WeightSet& ws, const std::string& prefix, std::int64_t hidden, std::int64_t intermediate,
                              bool bias, Activation act = Activation::Silu);

// out [T, hidden] for h [T, hidden].
void feed_forward(Backend& backend, const FeedForward& ffn, const Tensor& h, Tensor& out);

}  // namespace lmscope
