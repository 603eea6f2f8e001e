// flash-linear-attention's decoder layout, shared by its families here (DeltaNet, Gated DeltaNet and its hybrids,
// GLA, RetNet, HGRN2): model.embeddings, per layer `attn_norm` + token mixer under `attn.` + `mlp_norm` + SwiGLU
// MLP, model.norm, an untied lm_head when not tied. Layers listed in the config's `attn` block are softmax
// attention; the family supplies its own mixer for the others.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lmscope/model.h"
#include "models/block_stack.h"
#include "models/fla_config.h"
#include "models/token_mixer.h"

namespace lmscope {

class WeightSet;

std::string fla_layer_prefix(std::int64_t layer);  // "model.layers.<l>."

// Declares the family's mixer of `layer` under `prefix` (".../attn.").
using FlaMixerDeclare = std::function<std::unique_ptr<TokenMixer>(WeightSet& ws, const std::string& prefix, std::int64_t layer)>;
// Declares the family's tensors that follow model.embeddings.weight (HGRN2's model.lower_bounds).
using FlaAfterEmbeddings = std::function<void(WeightSet& ws)>;

// Every tensor of the stack in fla's module order, declared once (models/weight_set.h): collecting gives the list,
// loading the parts. Hybrid attention layers take the run-time RoPE override of opts.
StackParts assemble_fla_stack(const ModelSpec& spec, WeightSet& ws, const LoadOptions& opts,
                              const std::vector<HybridAttention>& attention, const FlaMixerDeclare& declare_mixer,
                              const FlaAfterEmbeddings& after_embeddings = {});

}  // namespace lmscope
