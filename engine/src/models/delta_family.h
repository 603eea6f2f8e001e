// What DeltaNet and Gated DeltaNet share beyond their mixer: fla's decoder layout (model.embeddings,
// model.layers.N.{attn_norm, attn, mlp_norm, mlp}, model.norm, lm_head), hybrid softmax-attention layers from the
// `attn` block, the spec's description, the tensor list and loading. Each family's file parses its own switches.
#pragma once

#include <memory>
#include <vector>

#include "lmscope/model.h"
#include "models/delta_rule_mixer.h"
#include "models/fla_config.h"
#include "models/ssm_mixers.h"

namespace lmscope {

// Stored in ModelSpec::family_config by both families.
struct DeltaFamilyConfig {
  DeltaRuleSettings mixer;
  std::vector<HybridAttention> attention;
  // Gated DeltaNet-H2: layers that are Mamba2 (SSD) instead (docs/ssm-families.md: the `mamba2` block).
  std::vector<std::int64_t> mamba2_layers;
  Mamba2Settings mamba2;
};

// The `mamba2` block of a Gated DeltaNet-H2 config: {layers, num_heads, head_dim, state_size, n_groups, expand,
// conv_kernel, chunk_size, use_bias, use_conv_bias, D_has_hdim}, Mamba2's defaults (fla's Mamba2Config) for the
// rest. Layers must be in range and not attention layers. Leaves c untouched when the block is absent.
void parse_h2_mamba2_block(const ConfigFields& cfg, const ModelSpec& spec, DeltaFamilyConfig& c);

// Completes a spec whose family, model_type and fla decoder fields are set: mixer kind, heads, hybrid layers,
// details, family_config.
void describe_delta_family(const DeltaFamilyConfig& c, ModelSpec& spec);

std::vector<ExpectedTensor> delta_family_tensors(const ModelSpec& spec);
std::unique_ptr<Model> build_delta_family(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts);

}  // namespace lmscope
