// The token mixer of DeltaNet and Gated DeltaNet (fla/layers/delta_net.py, gated_deltanet.py): q/k/v projections,
// short causal convolutions, q/k activation and normalisation, β and (gated) decay, the delta rule over a
// per-head state, a per-head output norm (gated by g_proj when use_gate) and the output projection. Scoring many
// tokens runs the chunked form of the delta rule; one token at a time (decoding) runs the recurrent form. The
// state carried between calls is O(1) in the sequence length: K-1 conv inputs and S [d_k, d_v] per value head.
#pragma once

#include <memory>
#include <string>

#include "models/token_mixer.h"

namespace lmscope {

enum class QkActivation { Silu, Relu, EluPlusOne, Identity };
enum class QkNorm { L2, Sum };

struct DeltaRuleSettings {
  std::int64_t num_heads = 0;    // query/key heads
  std::int64_t num_v_heads = 0;  // value heads (Gated DeltaNet's grouped values); num_heads for DeltaNet
  std::int64_t head_k_dim = 0;
  std::int64_t head_v_dim = 0;
  bool gated = false;           // Gated DeltaNet: decay gate (a_proj, A_log, dt_bias), β always from b_proj
  bool use_beta = true;         // DeltaNet: β = sigmoid(b_proj x), else 1
  bool allow_neg_eigval = false;  // β · 2
  bool use_gate = false;        // output gate: g_proj and a gated RMSNorm
  bool use_short_conv = true;
  std::int64_t conv_size = 4;
  QkActivation qk_activation = QkActivation::Silu;
  QkNorm qk_norm = QkNorm::L2;
  double norm_eps = 1e-6;  // of the output norm

  std::int64_t key_dim() const { return num_heads * head_k_dim; }
  std::int64_t value_dim() const { return num_v_heads * head_v_dim; }
};

// Tokens per chunk of the chunked form (fla's chunk size).
inline constexpr std::int64_t kDeltaRuleChunk = 64;

class WeightSet;

// Declares (and, loading, loads) one layer's mixer; prefix is the mixer module with its dot, e.g.
// "model.layers.0.attn.". Collecting, the mixer holds placeholders and must not run.
std::unique_ptr<TokenMixer> declare_delta_rule_mixer(WeightSet& ws, const std::string& prefix, std::int64_t hidden,
                                                     const DeltaRuleSettings& s);

}  // namespace lmscope
