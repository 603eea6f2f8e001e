// The SwiGLU feed-forward block of Llama and of fla's models (GatedMLP): down(silu(gate(h)) · up(h)).
#pragma once

#include <string>
#include <vector>

#include "models/projection.h"

namespace lmscope {

struct SwigluMlp {
  Projection gate, up, down;
};

// prefix: e.g. "model.layers.0.mlp." (tensors gate_proj, up_proj, down_proj).
void add_swiglu_mlp_tensors(std::vector<ExpectedTensor>& out, const std::string& prefix, std::int64_t hidden,
                            std::int64_t intermediate, bool bias);
SwigluMlp load_swiglu_mlp(Backend& backend, const Checkpoint& ck, const std::string& prefix, bool bias);

// out [T, hidden] for h [T, hidden].
void swiglu_mlp(Backend& backend, const SwigluMlp& mlp, const Tensor& h, Tensor& out);

}  // namespace lmscope
