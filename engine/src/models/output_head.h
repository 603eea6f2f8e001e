// The end of every causal LM: final norm, then what AppendOutput asks for — the final hidden states, full
// logits, and/or fused target log-probabilities — for the rows a call returns. Shared by all families.
#pragma once

#include "backend/backend.h"
#include "lmscope/model.h"
#include "models/norm.h"

namespace lmscope {

struct OutputHead {
  const Norm& final_norm;
  NormKind norm_kind;
  float norm_eps;
  const Tensor& lm_head;  // [vocab, hidden]
  float logit_softcap = 0.0f;  // > 0: logits z become softcap·tanh(z / softcap)
};

// x: the last layer's output for the rows being returned ([n, hidden], before the final norm).
void emit_outputs(Backend& b, const OutputHead& head, const Tensor& x, const AppendOutput& out);

// BadInput unless `out.targets` is empty or has one entry per appended token.
void check_targets(const AppendOutput& out, std::size_t appended);

}  // namespace lmscope
