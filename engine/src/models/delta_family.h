// What DeltaNet and Gated DeltaNet share beyond their mixer: fla's decoder layout (model.embeddings,
// model.layers.N.{attn_norm, attn, mlp_norm, mlp}, model.norm, lm_head), hybrid softmax-attention layers from the
// `attn` block, the spec's description, the tensor list and loading. Each family's file parses its own switches.
#pragma once

#include <memory>
#include <vector>

#include "lmscope/model.h"
#include "models/delta_rule_mixer.h"
#include "models/fla_config.h"

namespace lmscope {

// Stored in ModelSpec::family_config by both families.
struct DeltaFamilyConfig {
  DeltaRuleSettings mixer;
  std::vector<HybridAttention> attention;
};

// Completes a spec whose family, model_type and fla decoder fields are set: mixer kind, heads, hybrid layers,
// details, family_config.
void describe_delta_family(const DeltaFamilyConfig& c, ModelSpec& spec);

std::vector<ExpectedTensor> delta_family_tensors(const ModelSpec& spec);
std::unique_ptr<Model> build_delta_family(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts);

}  // namespace lmscope
