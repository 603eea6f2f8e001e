// One linear map of a block, as stored in a checkpoint: x·Wᵀ (+ bias), or fla's BitLinear (BitNet b1.58), which
// first normalises x with its own RMSNorm (eps 1e-6), quantises each row to 8 bits and multiplies with ternary
// weights. The ternary weights are quantised once, at load.
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "lmscope/checkpoint.h"

namespace lmscope {

struct Projection {
  Tensor weight;  // [out, in]
  Tensor bias;    // [out] when has_bias
  bool has_bias = false;
  bool bitlinear = false;
  Tensor input_norm;  // [in], BitLinear only
  std::int64_t out_features() const { return weight.rows(); }
};

// A stored weight on the backend; BadInput naming the folder when it is missing.
Tensor load_weight(Backend& backend, const Checkpoint& ck, const std::string& name);

// `name` is the module path without ".weight", e.g. "model.layers.0.attn.q_proj".
Projection load_linear(Backend& backend, const Checkpoint& ck, const std::string& name, bool bias);
Projection load_bitlinear(Backend& backend, const Checkpoint& ck, const std::string& name);

// The tensors of one projection [out, in] (BitLinear: the weight, marked ternary, and the norm weight [in]).
void add_projection_tensors(std::vector<ExpectedTensor>& out, const std::string& name, std::int64_t out_features,
                            std::int64_t in_features, bool bias, bool bitlinear = false);

// out [T, out_features] for x [T, in].
void project(Backend& backend, const Projection& p, const Tensor& x, Tensor& out);

}  // namespace lmscope
