// Softmax attention as a token mixer: q/k/v projections, RoPE on q and k (rotate-half), grouped-query attention
// over a KV cache (optionally a sliding window), output projection. Llama, fla's Transformer++, fla's hybrid
// attention layers and BitNet (BitLinear projections) all use it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lmscope/model.h"
#include "models/token_mixer.h"

namespace lmscope {

struct AttentionSettings {
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t window = 0;  // each query sees itself and window-1 earlier keys; 0: all earlier keys
  bool qkv_bias = false;
  bool bitlinear = false;  // BitNet: q, k, v and o are BitLinear
  RopeConfig rope;
};

// prefix: the attention module with its dot, e.g. "model.layers.1.attn." (tensors q_proj, k_proj, v_proj, o_proj).
void add_attention_tensors(std::vector<ExpectedTensor>& out, const std::string& prefix, std::int64_t hidden,
                           const AttentionSettings& s);
std::unique_ptr<TokenMixer> load_softmax_attention(Backend& backend, const Checkpoint& ck, const std::string& prefix,
                                                   const AttentionSettings& s);

// The RoPE configuration after a run-time override ("" keeps it); BadInput when it does not fit the head.
RopeConfig rope_with_override(const RopeConfig& rope, const LoadOptions& opts, std::int64_t head_dim);

}  // namespace lmscope
