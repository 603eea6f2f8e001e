// config.json fields that flash-linear-attention's model families share: the hybrid `attn` block, the GatedMLP
// width, and the switches every fla config carries. Missing fields take fla's defaults, as fla's config classes do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config_fields.h"
#include "lmscope/model_spec.h"
#include "models/softmax_attention.h"

namespace lmscope {

// One specification of fla's `attn` block: these layers are softmax attention with RoPE instead of the family's
// own mixer.
struct HybridAttention {
  std::vector<std::int64_t> layers;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;  // hidden_size / num_heads
  bool qkv_bias = false;
  std::int64_t window = 0;  // 0: none
  double rope_theta = 10000.0;
};

// `attn`: null, one specification or a list of them. BadInput naming the field (layers out of range or repeated,
// heads that do not divide hidden_size, ...).
std::vector<HybridAttention> parse_hybrid_attention(const ConfigFields& cfg, std::int64_t num_layers,
                                                    std::int64_t hidden_size);
// The specification that covers `layer`, or nullptr.
const HybridAttention* hybrid_attention_at(const std::vector<HybridAttention>& specs, std::int64_t layer);

// fla's GatedMLP width: intermediate_size, else 2/3 · hidden_size · hidden_ratio (default 4) rounded up to a
// multiple of 256.
std::int64_t fla_intermediate_size(const ConfigFields& cfg, std::int64_t hidden_size);

// Fills the fields of a fla decoder that every family reads the same way (vocab_size 32000, hidden_size 2048,
// num_hidden_layers 24, norm_eps 1e-6, max_position_embeddings 2048, tie_word_embeddings false, the MLP width) and
// rejects what no fla family here implements (hidden_act other than swish, attnres_block_size). Kernel and training
// switches (fuse_*, use_l2warp, use_cache, initializer_range) do not change the outputs and are accepted.
void parse_fla_decoder_fields(const ConfigFields& cfg, ModelSpec& spec);

// Records hybrid layers in the spec: attention_layers, RoPE and window of the (first) attention specification, and a
// details line per specification.
void describe_hybrid_attention(const std::vector<HybridAttention>& specs, ModelSpec& spec);

// The settings of a hybrid attention layer as a softmax-attention mixer.
AttentionSettings hybrid_attention_settings(const HybridAttention& a, const ModelSpec& spec);

}  // namespace lmscope
