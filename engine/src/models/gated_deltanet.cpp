// fla's Gated DeltaNet (`gated_deltanet`, fla/models/gated_deltanet, fla/layers/gated_deltanet.py): the delta rule
// with a data-dependent decay, optional grouped value heads, an output gate; hybrids (H1) through the `attn`
// block. Defaults are those of fla's GatedDeltaNetConfig.
#include <cmath>
#include <string>

#include "models/delta_family.h"
#include "models/family.h"

namespace lmscope {
namespace {

void parse_gated_deltanet(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "gated_deltanet";
  parse_fla_decoder_fields(cfg, s);
  const std::string mode = cfg.string("attn_mode", "chunk");
  if (mode != "chunk" && mode != "fused_recurrent") cfg.fail("attn_mode", "\"chunk\" or \"fused_recurrent\"");

  DeltaFamilyConfig c;
  DeltaRuleSettings& m = c.mixer;
  m.num_heads = cfg.positive_int("num_heads", 6);
  m.head_k_dim = cfg.positive_int("head_dim", 256);
  m.num_v_heads = cfg.positive_int("num_v_heads", m.num_heads);
  if (m.num_v_heads % m.num_heads != 0)
    cfg.fail("num_v_heads", "null or a multiple of num_heads (" + std::to_string(m.num_heads) + "): each value head reads one query/key head");
  const double expand_v = cfg.expansion_ratio("expand_v", 2.0);
  const double head_v = static_cast<double>(m.head_k_dim) * expand_v;
  m.head_v_dim = static_cast<std::int64_t>(head_v);
  if (!(expand_v > 0) || m.head_v_dim <= 0 || std::fabs(head_v - static_cast<double>(m.head_v_dim)) > 1e-5 * head_v)
    cfg.fail("expand_v", "a ratio for which head_dim · expand_v (" + std::to_string(m.head_k_dim) + " · " +
                             std::to_string(expand_v) + ") is a positive whole number");
  m.gated = true;
  m.use_gate = cfg.boolean("use_gate", true);
  m.use_short_conv = cfg.boolean("use_short_conv", true);
  m.conv_size = cfg.positive_int("conv_size", 4);
  m.allow_neg_eigval = cfg.boolean("allow_neg_eigval", false);
  m.norm_eps = s.norm_eps;
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  parse_h2_mamba2_block(cfg, s, c);
  describe_delta_family(c, s);
}

}  // namespace

Family gated_deltanet_family() {
  return Family{"gated_deltanet", "gated_deltanet", "fla", parse_gated_deltanet, delta_family_tensors, build_delta_family};
}

}  // namespace lmscope
