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

#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "models/family.h"
#include "models/fla_config.h"
#include "models/token_mixer.h"

namespace lmscope {

std::string fla_layer_prefix(std::int64_t layer);  // "model.layers.<l>."

// Adds the family's mixer tensors of `layer` under `prefix` (".../attn.").
using FlaMixerTensors = std::function<void(std::vector<ExpectedTensor>& out, const std::string& prefix, std::int64_t layer)>;
// Loads the family's mixer of `layer` from `prefix`.
using FlaMixerLoader = std::function<std::unique_ptr<TokenMixer>(Backend& b, const std::string& prefix, std::int64_t layer)>;

// Every tensor of the stack in fla's module order; `after_embeddings` go right after model.embeddings.weight.
std::vector<ExpectedTensor> fla_stack_tensors(const ModelSpec& spec, const std::vector<HybridAttention>& attention,
                                              const FlaMixerTensors& mixer_tensors,
                                              std::vector<ExpectedTensor> after_embeddings = {});

// The model: hybrid attention layers with the run-time RoPE override applied, the family's mixers elsewhere.
std::unique_ptr<Model> build_fla_stack(const Checkpoint& ck, std::shared_ptr<Backend> backend, ModelSpec spec,
                                       const std::vector<HybridAttention>& attention, const LoadOptions& opts,
                                       const FlaMixerLoader& load_mixer);

}  // namespace lmscope
