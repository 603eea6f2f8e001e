// fla's DeltaNet (`delta_net`, fla/models/delta_net, fla/layers/delta_net.py): the delta rule without decay, with
// the switches its config carries. Defaults are those of fla's DeltaNetConfig.
#include <cmath>
#include <string>

#include "models/delta_family.h"
#include "models/family.h"

namespace lmscope {
namespace {

// The dimension hidden_size · expand (truncated, as fla's int()), which must split into num_heads heads.
std::int64_t expanded_dim(const ConfigFields& cfg, const std::string& key, std::int64_t hidden, std::int64_t heads) {
  const double expand = cfg.expansion_ratio(key, 1.0);
  const auto dim = static_cast<std::int64_t>(static_cast<double>(hidden) * expand);
  if (!(expand > 0) || dim <= 0 || dim % heads != 0)
    cfg.fail(key, "a ratio for which hidden_size · " + key + " (" + std::to_string(hidden) + " · " + std::to_string(expand) +
                      ") is a positive multiple of num_heads (" + std::to_string(heads) + ")");
  return dim;
}

void parse_delta_net(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "delta_net";
  parse_fla_decoder_fields(cfg, s);
  // chunk, fused_recurrent and the older fused_chunk are kernels for the same math
  const std::string mode = cfg.string("attn_mode", "chunk");
  if (mode != "chunk" && mode != "fused_recurrent" && mode != "fused_chunk")
    cfg.fail("attn_mode", "\"chunk\", \"fused_recurrent\" or \"fused_chunk\"");

  DeltaFamilyConfig c;
  DeltaRuleSettings& m = c.mixer;
  m.num_heads = cfg.positive_int("num_heads", 16);
  m.num_v_heads = m.num_heads;
  m.head_k_dim = expanded_dim(cfg, "expand_k", s.hidden_size, m.num_heads) / m.num_heads;
  m.head_v_dim = expanded_dim(cfg, "expand_v", s.hidden_size, m.num_heads) / m.num_heads;
  m.gated = false;
  m.use_beta = cfg.boolean("use_beta", true);
  m.use_gate = cfg.boolean("use_gate", false);
  m.use_short_conv = cfg.boolean("use_short_conv", true);
  m.conv_size = cfg.positive_int("conv_size", 4);
  m.allow_neg_eigval = cfg.boolean("allow_neg_eigval", false);
  const std::string act = cfg.string("qk_activation", "silu");
  if (act == "silu") m.qk_activation = QkActivation::Silu;
  else if (act == "relu") m.qk_activation = QkActivation::Relu;
  else if (act == "elu") m.qk_activation = QkActivation::EluPlusOne;
  else if (act == "identity") m.qk_activation = QkActivation::Identity;
  else cfg.fail("qk_activation", "\"silu\", \"relu\", \"elu\" or \"identity\"");
  const std::string norm = cfg.string("qk_norm", "l2");
  if (norm == "l2") m.qk_norm = QkNorm::L2;
  else if (norm == "sum") m.qk_norm = QkNorm::Sum;
  else cfg.fail("qk_norm", "\"l2\" or \"sum\"");
  m.norm_eps = s.norm_eps;
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  describe_delta_family(c, s);
  // fla's DeltaNet layer takes use_output_norm but has never acted on it: its output norm always runs.
  if (!cfg.boolean("use_output_norm", true))
    s.details.emplace_back("use_output_norm", "false, which fla ignores: the output norm is applied");
}

}  // namespace

Family delta_net_family() {
  return Family{"delta_net", "delta_net", "fla", parse_delta_net, delta_family_tensors, build_delta_family};
}

}  // namespace lmscope
