#include "models/delta_family.h"

#include <algorithm>
#include <any>
#include <string>

#include "lmscope/error.h"
#include "models/fla_stack.h"
#include "models/softmax_attention.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

const DeltaFamilyConfig& config_of(const ModelSpec& spec) {
  const auto* c = std::any_cast<DeltaFamilyConfig>(&spec.family_config);
  if (!c) throw InternalError("delta-rule family spec without its config");
  return *c;
}

std::string qk_words(const DeltaRuleSettings& m) {
  const char* act = m.qk_activation == QkActivation::Silu       ? "SiLU"
                    : m.qk_activation == QkActivation::Relu     ? "ReLU"
                    : m.qk_activation == QkActivation::EluPlusOne ? "ELU+1"
                                                                  : "identity";
  return std::string(act) + (m.qk_norm == QkNorm::L2 ? ", L2-normalised per head" : ", sum-normalised per head");
}

bool is_mamba2_layer(const DeltaFamilyConfig& c, std::int64_t l) {
  return std::find(c.mamba2_layers.begin(), c.mamba2_layers.end(), l) != c.mamba2_layers.end();
}

}  // namespace

void parse_h2_mamba2_block(const ConfigFields& cfg, const ModelSpec& s, DeltaFamilyConfig& c) {
  if (!cfg.has("mamba2")) return;
  if (!cfg.raw()["mamba2"].is_object())
    cfg.fail("mamba2", "null or an object {layers, num_heads, head_dim, state_size, ...} (Gated DeltaNet-H2)");
  const ConfigFields m = cfg.object("mamba2");
  if (!m.has("layers") || !m.raw()["layers"].is_array() || m.raw()["layers"].empty())
    m.fail("layers", "a non-empty list of layer indices");
  for (const auto& v : m.raw()["layers"]) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= s.num_layers)
      m.fail("layers", "indices in [0, " + std::to_string(s.num_layers) + ")");
    const auto l = v.get<std::int64_t>();
    if (hybrid_attention_at(c.attention, l)) m.fail("layers", "layers that are not attention layers too (" + std::to_string(l) + ")");
    if (is_mamba2_layer(c, l)) m.fail("layers", "each layer once (" + std::to_string(l) + " repeats)");
    c.mamba2_layers.push_back(l);
  }
  c.mamba2 = parse_mamba2_settings(m, s.hidden_size, s.norm_eps, /*fla_defaults=*/true);
}

void describe_delta_family(const DeltaFamilyConfig& c, ModelSpec& s) {
  const DeltaRuleSettings& m = c.mixer;
  s.mixer = m.gated ? "gated delta rule" : "delta rule";
  s.num_heads = m.num_heads;
  s.num_kv_heads = m.num_heads;
  s.head_dim = m.head_k_dim;
  s.uses_rope = false;
  s.details.emplace_back("linear heads", std::to_string(m.num_heads) + " query/key × d_k " + std::to_string(m.head_k_dim) +
                                             ", " + std::to_string(m.num_v_heads) + " value × d_v " +
                                             std::to_string(m.head_v_dim) + " (state " + std::to_string(m.head_k_dim) +
                                             " × " + std::to_string(m.head_v_dim) + " per value head)");
  s.details.emplace_back("short conv", m.use_short_conv ? "kernel " + std::to_string(m.conv_size) : "off");
  s.details.emplace_back("q/k", qk_words(m) + ", q scaled by 1/sqrt(d_k)");
  std::string beta = m.gated || m.use_beta ? "sigmoid(b_proj x)" : "1 (use_beta false)";
  if (m.allow_neg_eigval) beta += " × 2 (allow_neg_eigval)";
  s.details.emplace_back("beta", beta);
  if (m.gated) s.details.emplace_back("decay", "exp(g), g = -exp(A_log) · softplus(a_proj x + dt_bias)");
  s.details.emplace_back("output", m.use_gate ? "RMSNorm per head · SiLU(g_proj x)" : "RMSNorm per head");
  describe_hybrid_attention(c.attention, s);
  if (!c.mamba2_layers.empty()) {
    std::string layers;
    for (auto l : c.mamba2_layers) layers += (layers.empty() ? "" : ", ") + std::to_string(l);
    s.details.emplace_back("Mamba2 layers", layers + " (H2): SSD, " + std::to_string(c.mamba2.num_heads) + " heads × " +
                                                std::to_string(c.mamba2.head_dim) + ", state " +
                                                std::to_string(c.mamba2.state_size) + ", " +
                                                std::to_string(c.mamba2.n_groups) + " group(s)");
  }
  s.family_config = c;
}

namespace {

// The one list of the family's tensors: run collecting for validation, loading for the model.
StackParts assemble(const ModelSpec& s, WeightSet& ws, const LoadOptions& opts) {
  const DeltaFamilyConfig& c = config_of(s);
  return assemble_fla_stack(s, ws, opts, c.attention,
                            [&](WeightSet& ws, const std::string& p, std::int64_t l) -> std::unique_ptr<TokenMixer> {
                              if (is_mamba2_layer(c, l)) return declare_mamba2_mixer(ws, p, c.mamba2);
                              return declare_delta_rule_mixer(ws, p, s.hidden_size, c.mixer);
                            });
}

}  // namespace

std::vector<ExpectedTensor> delta_family_tensors(const ModelSpec& s) {
  WeightSet ws;
  assemble(s, ws, LoadOptions{});
  return ws.declared();
}

std::unique_ptr<Model> build_delta_family(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  const DeltaFamilyConfig& c = config_of(spec);
  if (!opts.rope_override.empty() && c.attention.empty())
    throw BadInput("--rope: this " + spec.model_type + " model has no attention layers, so no RoPE to override");
  if (!opts.rope_override.empty()) spec.rope = rope_with_override(spec.rope, opts, c.attention.front().head_dim);
  WeightSet ws(*backend, ck);
  StackParts parts = assemble(spec, ws, opts);
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), parts.embed, parts.final_norm, parts.lm_head,
                                           std::move(parts.blocks));
}

}  // namespace lmscope
