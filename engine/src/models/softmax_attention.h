// Softmax attention as a token mixer: q/k/v projections, optional q/k RMSNorms, RoPE on q and k (rotate-half, on
// all or the first part of each head), grouped-query attention over a KV cache (optionally a sliding window, a
// score soft-cap), optional norm of the output, output projection. Llama and the transformers families like it,
// fla's Transformer++, fla's hybrid attention layers and both BitNets use it; they differ in the settings below.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lmscope/model.h"
#include "models/projection.h"
#include "models/token_mixer.h"

namespace lmscope {

class WeightSet;

enum class AttentionQkNorm {
  None,
  PerHead,   // each head's q and k normalised with weights [head_dim] (Qwen3)
  AllHeads,  // the whole q row and k row normalised with weights [heads · head_dim] (OLMo 2)
};

// How q, k and v are stored.
enum class QkvLayout {
  Separate,  // q_proj, k_proj, v_proj
  Stacked,   // one matrix with the q rows, then the k rows, then the v rows (Phi-3's qkv_proj)
  PerHead,   // one matrix with q, k, v rows of head 0, then of head 1, ... (GPT-NeoX's query_key_value; MHA only)
};

// Tensor names under the attention module's prefix.
struct AttentionNames {
  std::string q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj";
  std::string qkv = "qkv_proj";  // the fused matrix (Stacked / PerHead layouts)
  std::string q_norm = "q_norm", k_norm = "k_norm";
  std::string sub_norm = "attn_sub_norm";
};

struct AttentionSettings {
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t window = 0;  // each query sees itself and window-1 earlier keys; 0: all earlier keys
  bool qkv_bias = false;
  bool o_bias = false;
  bool bitlinear = false;  // fla's BitNet: q, k, v and o are fla BitLinear (sets format)
  ProjectionFormat format;  // how q, k, v, o are stored (transformers' BitNet: packed ternary)
  QkvLayout qkv_layout = QkvLayout::Separate;
  AttentionQkNorm qk_norm = AttentionQkNorm::None;
  float qk_norm_eps = 1e-6f;
  float scale = 0.0f;    // multiplies q·k; 0: 1 / sqrt(head_dim)
  float softcap = 0.0f;  // > 0: scores s become softcap·tanh(s / softcap) (Gemma 2)
  bool sub_norm = false;  // RMSNorm of the attention output before o (transformers' BitNet), weights [heads·head_dim]
  float sub_norm_eps = 1e-6f;
  AttentionNames names;
  RopeConfig rope;
};

// Declares (and, loading, loads) the attention of one layer under prefix, e.g. "model.layers.1.self_attn.".
std::unique_ptr<TokenMixer> declare_softmax_attention(WeightSet& ws, const std::string& prefix, std::int64_t hidden,
                                                      const AttentionSettings& s);

// The RoPE configuration after a run-time override ("" keeps it); BadInput when it does not fit the head.
RopeConfig rope_with_override(const RopeConfig& rope, const LoadOptions& opts, std::int64_t head_dim);

}  // namespace lmscope
