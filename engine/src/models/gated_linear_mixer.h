// The token mixers of fla's gated linear attention families, which all run the backend's gated_linear_attention op
// (S ← diag(exp(g)) S + k vᵀ, o = Sᵀ(q / sqrt(d_k))) and differ in where q, k, v and the decay g come from:
//   GLA (fla/layers/gla.py): q, k, v projections, g = logsigmoid(gk_proj x) / gate_logit_normalizer per key channel
//     (gk_proj a low-rank pair, the second with bias); output per-head RMSNorm · SiLU(g_proj x).
//   RetNet (fla/layers/multiscale_retention.py): q, k with RoPE over the key head, a fixed decay per head
//     g_h = log(1 − 2^(−5−h)); output as GLA.
//   HGRN2 (fla/layers/hgrn2.py): q = SiLU(q_proj x), forget gate f_proj with a per-layer lower bound,
//     k = 1 − forget, v = i_proj x; output RMSNorm over all channels, then o_proj.
// Many tokens run the chunked form, one token the recurrent form.
#pragma once

#include <memory>
#include <string>

#include "lmscope/rope.h"
#include "models/token_mixer.h"

namespace lmscope {

enum class GatedLinearKind { Gla, RetNet, Hgrn2 };

inline constexpr std::int64_t kGatedLinearChunk = 64;

struct GatedLinearSettings {
  GatedLinearKind kind = GatedLinearKind::Gla;
  std::int64_t num_heads = 0;
  std::int64_t head_k_dim = 0;
  std::int64_t head_v_dim = 0;
  bool use_short_conv = false;  // GLA / RetNet: SiLU short convolutions on q, k, v; HGRN2: without activation
  std::int64_t conv_size = 4;
  bool use_output_gate = true;  // GLA / RetNet
  std::int64_t gate_low_rank_dim = 16;     // GLA
  double gate_logit_normalizer = 16.0;     // GLA
  double norm_eps = 1e-5;
  // The output norm's module: "g_norm", or "g_norm_swish_gate" (fla's fused norm + gate when fuse_norm is on).
  std::string norm_name = "g_norm";
  RopeConfig rope;  // RetNet: fla's RotaryEmbedding over the key head (default rotation, base 10000)

  std::int64_t key_dim() const { return num_heads * head_k_dim; }
  std::int64_t value_dim() const { return num_heads * head_v_dim; }
};

class WeightSet;

// Declares (and, loading, loads) one layer's mixer; prefix is the mixer module with its dot, e.g.
// "model.layers.0.attn.". lower_bound: HGRN2's bound on the forget gate for this layer ([key_dim] on the backend,
// derived from model.lower_bounds), or nullptr. Collecting, the mixer holds placeholders and must not run.
std::unique_ptr<TokenMixer> declare_gated_linear_mixer(WeightSet& ws, const std::string& prefix, std::int64_t hidden,
                                                       const GatedLinearSettings& s, const Tensor* lower_bound);

}  // namespace lmscope
