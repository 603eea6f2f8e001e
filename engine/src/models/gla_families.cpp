// fla's gated linear attention families: GLA (`gla`), RetNet (`retnet`, multi-scale retention) and HGRN2 (`hgrn2`),
// in fla's decoder layout (model.embeddings, model.layers.N.{attn_norm, attn, mlp_norm, mlp}, model.norm, lm_head),
// with hybrid softmax-attention layers from the `attn` block. Defaults are those of fla's config classes.
#include <any>
#include <cmath>
#include <string>

#include "lmscope/error.h"
#include "models/fla_stack.h"
#include "models/family.h"
#include "models/fla_config.h"
#include "models/gated_linear_mixer.h"
#include "models/softmax_attention.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

struct GatedLinearFamilyConfig {
  GatedLinearSettings mixer;
  std::vector<HybridAttention> attention;
  bool use_lower_bound = false;  // HGRN2: model.lower_bounds
};

const GatedLinearFamilyConfig& config_of(const ModelSpec& spec) {
  const auto* c = std::any_cast<GatedLinearFamilyConfig>(&spec.family_config);
  if (!c) throw InternalError("gated linear family spec without its config");
  return *c;
}

void check_attn_mode(const ConfigFields& cfg, bool parallel) {
  const std::string mode = cfg.string("attn_mode", "chunk");
  if (mode != "chunk" && mode != "fused_recurrent" && mode != "fused_chunk" && !(parallel && mode == "parallel"))
    cfg.fail("attn_mode", parallel ? "\"chunk\", \"fused_chunk\", \"parallel\" or \"fused_recurrent\""
                                   : "\"chunk\", \"fused_chunk\" or \"fused_recurrent\"");
}

// key / value widths of GLA and RetNet: hidden · expand, split over num_heads.
std::int64_t expanded(const ConfigFields& cfg, const char* key, double fallback, std::int64_t hidden, std::int64_t heads) {
  const double e = cfg.expansion_ratio(key, fallback);
  const double dim = static_cast<double>(hidden) * e;
  const auto d = static_cast<std::int64_t>(std::llround(dim));
  if (!(e > 0) || std::fabs(dim - static_cast<double>(d)) > 1e-6 * dim || d % heads != 0)
    cfg.fail(key, "a ratio for which hidden_size · " + std::string(key) + " is a whole multiple of num_heads (" +
                      std::to_string(heads) + ")");
  return d / heads;
}

void common_switches(const ConfigFields& cfg, GatedLinearSettings& m) {
  if (cfg.has("feature_map")) cfg.fail("feature_map", "null (feature maps on q/k are not implemented)");
  if (cfg.has("num_kv_heads") && cfg.positive_int("num_kv_heads") != m.num_heads)
    cfg.fail("num_kv_heads", "null or num_heads (shared key/value heads are not implemented)");
  if (!cfg.boolean("elementwise_affine", true)) cfg.fail("elementwise_affine", "true (norms without weights are not implemented)");
  m.use_short_conv = cfg.boolean("use_short_conv", false);
  m.conv_size = cfg.positive_int("conv_size", 4);
  if (cfg.boolean("conv_bias", false)) cfg.fail("conv_bias", "false (short convolutions with bias are not implemented)");
}

void describe(const GatedLinearFamilyConfig& c, ModelSpec& s, const std::string& mixer, const std::string& decay) {
  const GatedLinearSettings& m = c.mixer;
  s.mixer = mixer;
  s.num_heads = m.num_heads;
  s.num_kv_heads = m.num_heads;
  s.head_dim = m.head_k_dim;
  s.uses_rope = false;
  s.details.emplace_back("linear heads", std::to_string(m.num_heads) + " × d_k " + std::to_string(m.head_k_dim) + ", d_v " +
                                             std::to_string(m.head_v_dim) + " (state " + std::to_string(m.head_k_dim) +
                                             " × " + std::to_string(m.head_v_dim) + " per head), q scaled by 1/sqrt(d_k)");
  s.details.emplace_back("decay", decay);
  s.details.emplace_back("short conv", m.use_short_conv ? "kernel " + std::to_string(m.conv_size) : "off");
  describe_hybrid_attention(c.attention, s);
  if (m.kind == GatedLinearKind::RetNet) s.uses_rope = true;  // RoPE on q/k of every retention layer
  s.family_config = c;
}

void parse_gla(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "gla";
  parse_fla_decoder_fields(cfg, s);
  check_attn_mode(cfg, false);
  GatedLinearFamilyConfig c;
  GatedLinearSettings& m = c.mixer;
  m.kind = GatedLinearKind::Gla;
  m.num_heads = cfg.positive_int("num_heads", 4);
  m.head_k_dim = expanded(cfg, "expand_k", 0.5, s.hidden_size, m.num_heads);
  m.head_v_dim = expanded(cfg, "expand_v", 1.0, s.hidden_size, m.num_heads);
  common_switches(cfg, m);
  if (!cfg.boolean("use_gk", true)) cfg.fail("use_gk", "true (GLA without a key gate is not implemented)");
  if (cfg.boolean("use_gv", false)) cfg.fail("use_gv", "false (value gates are not implemented)");
  if (cfg.has("clamp_min")) cfg.fail("clamp_min", "null (clamping the gate is not implemented)");
  m.use_output_gate = cfg.boolean("use_output_gate", true);
  m.gate_low_rank_dim = cfg.positive_int("gate_low_rank_dim", 16);
  m.gate_logit_normalizer = cfg.number("gate_logit_normalizer", 16.0);
  if (!(m.gate_logit_normalizer > 0)) cfg.fail("gate_logit_normalizer", "a positive number");
  m.norm_eps = s.norm_eps;
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  describe(c, s, "gated linear attention (GLA)",
           "per key channel: logsigmoid(gk_proj x) / " + std::to_string(m.gate_logit_normalizer) + ", gk_proj rank " +
               std::to_string(m.gate_low_rank_dim));
  s.details.emplace_back("output", m.use_output_gate ? "RMSNorm per head · SiLU(g_proj x)" : "RMSNorm per head");
}

void parse_retnet(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "retnet";
  parse_fla_decoder_fields(cfg, s);
  if (!cfg.has("intermediate_size")) {  // RetNet's hidden_ratio defaults to 2, not 4
    const std::int64_t i = s.hidden_size * cfg.positive_int("hidden_ratio", 2) * 2 / 3;
    s.intermediate_size = 256 * ((i + 255) / 256);
  }
  check_attn_mode(cfg, true);
  GatedLinearFamilyConfig c;
  GatedLinearSettings& m = c.mixer;
  m.kind = GatedLinearKind::RetNet;
  m.num_heads = cfg.positive_int("num_heads", 8);
  m.head_k_dim = expanded(cfg, "expand_k", 1.0, s.hidden_size, m.num_heads);
  m.head_v_dim = expanded(cfg, "expand_v", 2.0, s.hidden_size, m.num_heads);
  if (m.head_k_dim % 2 != 0) cfg.fail("expand_k", "a key head dimension that is even (RoPE rotates pairs)");
  common_switches(cfg, m);
  m.use_output_gate = cfg.boolean("use_output_gate", true);
  m.norm_eps = s.norm_eps;
  m.rope.max_position_embeddings = s.max_position_embeddings;
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  describe(c, s, "multi-scale retention (RetNet)", "fixed per head h: 1 - 2^(-5-h); RoPE (theta 10000) on q and k");
  s.details.emplace_back("output", m.use_output_gate ? "RMSNorm per head · SiLU(g_proj x)" : "RMSNorm per head");
  if (c.attention.empty()) {
    s.rope = RopeConfig{};
    s.rope.max_position_embeddings = s.max_position_embeddings;
  }
}

void parse_hgrn2(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "hgrn2";
  parse_fla_decoder_fields(cfg, s);
  check_attn_mode(cfg, false);
  GatedLinearFamilyConfig c;
  GatedLinearSettings& m = c.mixer;
  m.kind = GatedLinearKind::Hgrn2;
  // fla: expand_ratio, when given, fixes the heads (hidden / expand_ratio); else expand_ratio = hidden / num_heads
  if (cfg.has("expand_ratio")) {
    m.head_k_dim = cfg.positive_int("expand_ratio");
    if (s.hidden_size % m.head_k_dim != 0) cfg.fail("expand_ratio", "a divisor of hidden_size (" + std::to_string(s.hidden_size) + ")");
    m.num_heads = s.hidden_size / m.head_k_dim;
  } else {
    m.num_heads = cfg.positive_int("num_heads");
    if (s.hidden_size % m.num_heads != 0) cfg.fail("num_heads", "a divisor of hidden_size (" + std::to_string(s.hidden_size) + ")");
    m.head_k_dim = s.hidden_size / m.num_heads;
  }
  m.head_v_dim = s.hidden_size / m.num_heads;
  if (m.num_heads * m.head_v_dim != s.hidden_size) cfg.fail("num_heads", "a divisor of hidden_size");
  m.use_short_conv = cfg.boolean("use_short_conv", false);
  m.conv_size = cfg.positive_int("conv_size", 4);
  if (!cfg.boolean("elementwise_affine", true)) cfg.fail("elementwise_affine", "true (norms without weights are not implemented)");
  m.use_output_gate = false;
  m.norm_eps = s.norm_eps;
  c.use_lower_bound = cfg.boolean("use_lower_bound", true);
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  describe(c, s, "HGRN2 (gated linear RNN)",
           std::string("per channel: forget gate σ(f_proj x)") +
               (c.use_lower_bound ? " raised to a per-layer lower bound (softmax-cumsum of model.lower_bounds; none in layer 0)" : "") +
               "; k = 1 − forget, q = SiLU(q_proj x)");
  s.details.emplace_back("output", "RMSNorm over all channels, then o_proj");
}

// fla names the GLA / RetNet output norm g_norm_swish_gate when it fuses norm and gate (fuse_norm, the default) and
// g_norm otherwise: the tensors say which.
void resolve_norm_name(ModelSpec& s, const std::function<bool(const std::string&)>& has, const std::filesystem::path&) {
  auto c = config_of(s);
  if (c.mixer.kind == GatedLinearKind::Hgrn2) return;
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    if (hybrid_attention_at(c.attention, l)) continue;
    if (has(fla_layer_prefix(l) + "attn.g_norm_swish_gate.weight")) c.mixer.norm_name = "g_norm_swish_gate";
    break;
  }
  s.family_config = c;
}

// HGRN2's per-layer lower bounds from model.lower_bounds [L, H]: softmax over the layers, cumulative sum, minus the
// first (so layer 0 has none), as fla computes them in float32.
std::vector<std::vector<float>> lower_bounds(const std::vector<float>& raw, std::int64_t L, std::int64_t H) {
  std::vector<std::vector<float>> out(static_cast<std::size_t>(L), std::vector<float>(static_cast<std::size_t>(H)));
  for (std::int64_t c = 0; c < H; ++c) {
    double mx = -INFINITY, sum = 0;
    for (std::int64_t l = 0; l < L; ++l) mx = std::max(mx, static_cast<double>(raw[l * H + c]));
    for (std::int64_t l = 0; l < L; ++l) sum += std::exp(raw[l * H + c] - mx);
    double acc = 0;
    for (std::int64_t l = 0; l < L; ++l) {
      const double p = std::exp(raw[l * H + c] - mx) / sum;
      if (l > 0) acc += p;
      out[l][c] = static_cast<float>(acc);
    }
  }
  return out;
}

// The one list of the family's tensors: run collecting for validation, loading for the model. opts: the run-time
// RoPE override (RetNet's retention layers and the hybrid attention layers).
StackParts assemble(const ModelSpec& s, WeightSet& ws, const LoadOptions& opts) {
  const GatedLinearFamilyConfig& c = config_of(s);
  const bool retnet = c.mixer.kind == GatedLinearKind::RetNet;
  std::vector<std::vector<float>> bounds;  // loading only
  const auto declare_bounds = [&](WeightSet& ws) {
    if (!c.use_lower_bound) return;
    const std::vector<float> raw = ws.host_f32("model.lower_bounds", {s.num_layers, s.hidden_size});
    if (ws.loading()) bounds = lower_bounds(raw, s.num_layers, s.hidden_size);
  };
  const auto declare_mixer = [&](WeightSet& ws, const std::string& p, std::int64_t l) {
    GatedLinearSettings m = c.mixer;
    if (retnet) m.rope = rope_with_override(m.rope, opts, m.head_k_dim);
    const bool bounded = c.use_lower_bound && l > 0;
    Tensor lb;
    if (bounded && ws.loading()) {
      lb = ws.backend().alloc(DType::F32, {s.hidden_size});
      ws.backend().upload(bounds[static_cast<std::size_t>(l)], lb);
    }
    return declare_gated_linear_mixer(ws, p, s.hidden_size, m, bounded ? &lb : nullptr);
  };
  return assemble_fla_stack(s, ws, opts, c.attention, declare_mixer, declare_bounds);
}

std::vector<ExpectedTensor> gated_linear_tensors(const ModelSpec& s) {
  WeightSet ws;
  assemble(s, ws, LoadOptions{});
  return ws.declared();
}

std::unique_ptr<Model> build_gated_linear(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  const GatedLinearFamilyConfig& c = config_of(spec);
  if (!opts.rope_override.empty() && c.attention.empty() && c.mixer.kind != GatedLinearKind::RetNet)
    throw BadInput("--rope: this " + spec.model_type + " model has no attention layers, so no RoPE to override");
  WeightSet ws(*backend, ck);
  StackParts parts = assemble(spec, ws, opts);
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), parts.embed, parts.final_norm, parts.lm_head,
                                           std::move(parts.blocks));
}

}  // namespace

Family gla_family() {
  Family f{"gla", "gla", "fla", parse_gla, gated_linear_tensors, build_gated_linear};
  f.from_tensor_names = resolve_norm_name;
  return f;
}

Family retnet_family() {
  Family f{"retnet", "retnet", "fla", parse_retnet, gated_linear_tensors, build_gated_linear};
  f.from_tensor_names = resolve_norm_name;
  return f;
}

Family hgrn2_family() {
  Family f{"hgrn2", "hgrn2", "fla", parse_hgrn2, gated_linear_tensors, build_gated_linear};
  f.from_tensor_names = resolve_norm_name;
  return f;
}

}  // namespace lmscope
