// The state-space families: Mamba and Mamba2 in transformers' layout (MambaForCausalLM / Mamba2ForCausalLM) and in
// fla's (fla/models/mamba, mamba2: the same modules and tensor names, other config keys and defaults), and fla's
// Samba (Mamba layers, sliding-window attention layers from the `attn` block, and an MLP in every block).
//
// transformers and fla share model_type "mamba" / "mamba2" and, in the checkpoints both libraries write, the tensor
// names (`backbone.embeddings`, `backbone.layers.N.{norm,mixer}`, `backbone.norm_f`, `lm_head`). So the config
// dialect decides the layout (fla writes `norm_eps`, transformers `layer_norm_epsilon`), and the tensor names
// decide the prefix: `backbone.` or `model.` (a checkpoint renamed to fla's usual decoder prefix), and
// `embeddings` or the original state-spaces `embedding`. Neither prefix: BadInput saying so.
#include <algorithm>
#include <any>
#include <cmath>
#include <limits>
#include <string>

#include "lmscope/error.h"
#include "models/block_stack.h"
#include "models/family.h"
#include "models/feed_forward.h"
#include "models/fla_config.h"
#include "models/softmax_attention.h"
#include "models/ssm_mixers.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

enum class SsmKind { Mamba, Mamba2, Samba };

struct SsmFamilyConfig {
  SsmKind kind = SsmKind::Mamba;
  MambaSettings mamba;
  Mamba2Settings mamba2;
  std::vector<HybridAttention> attention;  // Samba
  std::string prefix = "backbone.";        // from the tensor names
  std::string embed = "embeddings.weight";
};

const SsmFamilyConfig& config_of(const ModelSpec& spec) {
  const auto* c = std::any_cast<SsmFamilyConfig>(&spec.family_config);
  if (!c) throw InternalError("SSM family spec without its config");
  return *c;
}

// fla's configs write norm_eps; transformers' layer_norm_epsilon.
bool fla_dialect(const ConfigFields& cfg) { return !cfg.has("layer_norm_epsilon") && cfg.has("norm_eps"); }

std::int64_t time_step_rank(const ConfigFields& cfg, std::int64_t hidden) {
  for (const char* key : {"time_step_rank", "dt_rank"}) {
    if (!cfg.has(key)) continue;
    if (cfg.raw()[key].is_string()) {
      if (cfg.string(key, "") != "auto") cfg.fail(key, "a positive integer or \"auto\"");
      break;
    }
    return cfg.positive_int(key);
  }
  return (hidden + 15) / 16;  // "auto": ceil(hidden / 16)
}

void check_silu(const ConfigFields& cfg) {
  const std::string act = cfg.string("hidden_act", "silu");
  if (act != "silu" && act != "swish") cfg.fail("hidden_act", "\"silu\" (the only SSM activation implemented)");
}

// time_step_limit / dt_limit: softplus(dt) is never negative, so only (≤ 0, inf) leaves dt unchanged.
void check_time_step_limit(const ConfigFields& cfg) {
  for (const char* key : {"time_step_limit", "dt_limit"}) {
    if (!cfg.has(key)) continue;
    const auto& j = cfg.raw()[key];
    auto value = [&](const nlohmann::json& e) {
      if (e.is_number()) return e.get<double>();
      const auto& s = e.is_object() && e.contains("__float__") ? e["__float__"] : e;  // transformers' JSON for inf
      if (s.is_string() && (s == "Infinity" || s == "inf")) return std::numeric_limits<double>::infinity();
      cfg.fail(key, "[low, high] numbers");
    };
    if (!j.is_array() || j.size() != 2) cfg.fail(key, "[low, high]");
    if (!(value(j[0]) <= 0.0) || !std::isinf(value(j[1])))
      cfg.fail(key, "[0.0, inf] (clamping the time step is not implemented)");
  }
}

MambaSettings parse_mamba_settings(const ConfigFields& cfg, std::int64_t hidden) {
  MambaSettings m;
  m.hidden = hidden;
  const double expand = cfg.expansion_ratio("expand", 2.0);
  m.intermediate = cfg.has("intermediate_size") ? cfg.positive_int("intermediate_size")
                                                : static_cast<std::int64_t>(expand * static_cast<double>(hidden));
  if (m.intermediate <= 0) cfg.fail("expand", "a positive ratio");
  m.state_size = cfg.positive_int("state_size", 16);
  m.conv_kernel = cfg.positive_int("conv_kernel", 4);
  m.dt_rank = time_step_rank(cfg, hidden);
  m.use_bias = cfg.boolean("use_bias", false);
  m.use_conv_bias = cfg.boolean("use_conv_bias", true);
  return m;
}

std::string mamba_words(const MambaSettings& m) {
  return std::to_string(m.intermediate) + " channels × state " + std::to_string(m.state_size) + ", conv " +
         std::to_string(m.conv_kernel) + (m.use_conv_bias ? " (bias)" : "") + ", dt rank " + std::to_string(m.dt_rank);
}

void parse_mamba(const ConfigFields& cfg, ModelSpec& s) {
  const bool fla = fla_dialect(cfg);
  s.family = "mamba";
  s.layout = fla ? "fla" : "transformers";
  s.vocab_size = cfg.positive_int("vocab_size", fla ? 32000 : 50280);
  s.hidden_size = cfg.positive_int("hidden_size", fla ? 2048 : 768);
  s.num_layers = cfg.positive_int("num_hidden_layers", fla ? 48 : 32);
  s.norm_eps = fla ? cfg.number("norm_eps", 1e-5) : cfg.number("layer_norm_epsilon", 1e-5);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", !fla);  // transformers' default ties, fla's does not
  if (!fla) check_silu(cfg);  // fla's Mamba block always builds its mixer with SiLU
  SsmFamilyConfig c;
  c.kind = SsmKind::Mamba;
  c.mamba = parse_mamba_settings(cfg, s.hidden_size);
  s.mixer = "selective SSM (Mamba)";
  s.uses_rope = false;
  s.intermediate_size = 0;  // no MLP
  s.details.emplace_back("ssm", mamba_words(c.mamba));
  s.details.emplace_back("block", "x += mixer(RMSNorm(x)); no MLP");
  s.family_config = c;
}

void parse_mamba2(const ConfigFields& cfg, ModelSpec& s) {
  const bool fla = fla_dialect(cfg);
  s.family = "mamba2";
  s.layout = fla ? "fla" : "transformers";
  s.vocab_size = cfg.positive_int("vocab_size", fla ? 32000 : 32768);
  s.hidden_size = cfg.positive_int("hidden_size", fla ? 2048 : 4096);
  s.num_layers = cfg.positive_int("num_hidden_layers", fla ? 48 : 64);
  s.norm_eps = fla ? cfg.number("norm_eps", 1e-5) : cfg.number("layer_norm_epsilon", 1e-5);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  check_silu(cfg);
  check_time_step_limit(cfg);
  SsmFamilyConfig c;
  c.kind = SsmKind::Mamba2;
  c.mamba2 = parse_mamba2_settings(cfg, s.hidden_size, s.norm_eps, fla);
  const Mamba2Settings& m = c.mamba2;
  s.mixer = "SSD (Mamba2)";
  s.num_heads = m.num_heads;
  s.num_kv_heads = m.n_groups;
  s.head_dim = m.head_dim;
  s.uses_rope = false;
  s.intermediate_size = 0;
  s.details.emplace_back("ssm", std::to_string(m.num_heads) + " heads × " + std::to_string(m.head_dim) + ", " +
                                    std::to_string(m.n_groups) + " B/C group(s) × state " + std::to_string(m.state_size) +
                                    ", conv " + std::to_string(m.conv_kernel) + ", D per " + (m.d_has_hdim ? "channel" : "head"));
  // Both libraries build the gated norm unconditionally with norm_before_gate=False; their switches are not read.
  s.details.emplace_back("output", "RMSNorm(y · SiLU(z)) over all channels, then out_proj");
  if (!cfg.boolean("rms_norm", true) || !cfg.boolean("rmsnorm", true) || cfg.boolean("norm_before_gate", false))
    s.details.emplace_back("ignored switches", "rms_norm / norm_before_gate: the libraries' Mamba2 layer does not read them");
  s.details.emplace_back("block", "x += mixer(RMSNorm(x)); no MLP");
  s.family_config = c;
}

void parse_samba(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "samba";
  parse_fla_decoder_fields(cfg, s);
  s.norm_eps = cfg.number("norm_eps", 1e-5);
  // fla's SambaBlock builds its GatedMLP from hidden_ratio alone: intermediate_size belongs to the Mamba layers.
  const std::int64_t i = s.hidden_size * cfg.positive_int("hidden_ratio", 4) * 2 / 3;
  s.intermediate_size = 256 * ((i + 255) / 256);
  SsmFamilyConfig c;
  c.kind = SsmKind::Samba;
  c.mamba = parse_mamba_settings(cfg, s.hidden_size);
  c.attention = parse_hybrid_attention(cfg, s.num_layers, s.hidden_size);
  s.mixer = "selective SSM (Mamba)";
  s.details.emplace_back("ssm", mamba_words(c.mamba));
  describe_hybrid_attention(c.attention, s);
  s.family_config = c;
}

void resolve_prefix(ModelSpec& s, const std::function<bool(const std::string&)>& has, const std::filesystem::path& dir) {
  auto c = config_of(s);
  for (const char* prefix : {"backbone.", "model."})
    for (const char* embed : {"embeddings.weight", "embedding.weight"})
      if (has(std::string(prefix) + embed)) {
        c.prefix = prefix;
        c.embed = embed;
        s.details.emplace_back("tensor names", std::string(prefix) + "*");
        s.family_config = c;
        return;
      }
  throw BadInput(dir.string() + ": " + s.model_type + " checkpoint without backbone.embeddings.weight (transformers' and fla's "
                 "layout) or model.embeddings.weight: cannot tell how its tensors are named");
}

std::string layer_prefix(const SsmFamilyConfig& c, std::int64_t l) { return c.prefix + "layers." + std::to_string(l) + "."; }

// The one list of the family's tensors: run collecting for validation, loading for the model. opts: the run-time
// RoPE override of Samba's attention layers.
StackParts assemble(const ModelSpec& s, WeightSet& ws, const LoadOptions& opts) {
  const SsmFamilyConfig& c = config_of(s);
  const std::int64_t H = s.hidden_size;
  StackParts parts;
  parts.embed = ws.weight(c.prefix + c.embed, {s.vocab_size, H});
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = layer_prefix(c, l);
    Block blk;
    if (c.kind == SsmKind::Samba) {
      blk.mixer_norm.weight = ws.weight(p + "mixer_norm.weight", {H});
      if (const HybridAttention* a = hybrid_attention_at(c.attention, l)) {
        AttentionSettings as = hybrid_attention_settings(*a, s);
        as.rope = rope_with_override(as.rope, opts, as.head_dim);
        blk.mixer = declare_softmax_attention(ws, p + "mixer.", H, as);
      } else {
        blk.mixer = declare_mamba_mixer(ws, p + "mixer.", c.mamba);
      }
      blk.mlp_norm.weight = ws.weight(p + "mlp_norm.weight", {H});
      blk.mlp = declare_gated_mlp(ws, p + "mlp.", H, s.intermediate_size, false);
    } else {
      blk.mixer_norm.weight = ws.weight(p + "norm.weight", {H});
      blk.mixer = c.kind == SsmKind::Mamba ? declare_mamba_mixer(ws, p + "mixer.", c.mamba)
                                           : declare_mamba2_mixer(ws, p + "mixer.", c.mamba2);
      blk.has_mlp = false;
    }
    parts.blocks.push_back(std::move(blk));
  }
  parts.final_norm.weight = ws.weight(c.prefix + "norm_f.weight", {H});
  parts.lm_head = s.tie_word_embeddings ? parts.embed : ws.weight("lm_head.weight", {s.vocab_size, H});
  return parts;
}

std::vector<ExpectedTensor> ssm_tensors(const ModelSpec& s) {
  WeightSet ws;
  assemble(s, ws, LoadOptions{});
  return ws.declared();
}

std::unique_ptr<Model> build_ssm(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  const SsmFamilyConfig& c = config_of(spec);
  if (!opts.rope_override.empty() && c.attention.empty())
    throw BadInput("--rope: this " + spec.model_type + " model has no attention layers, so no RoPE to override");
  WeightSet ws(*backend, ck);
  StackParts parts = assemble(spec, ws, opts);
  if (!opts.rope_override.empty()) spec.rope = rope_with_override(spec.rope, opts, c.attention.front().head_dim);
  const bool transformers = spec.layout == "transformers";
  auto model = std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), parts.embed, parts.final_norm,
                                                 parts.lm_head, std::move(parts.blocks));
  model->set_hidden_after_every_block(transformers);
  return model;
}

}  // namespace

Mamba2Settings parse_mamba2_settings(const ConfigFields& cfg, std::int64_t hidden, double norm_eps, bool fla_defaults) {
  Mamba2Settings m;
  m.hidden = hidden;
  m.head_dim = cfg.positive_int("head_dim", 64);
  const double expand = cfg.expansion_ratio("expand", 2.0);
  const auto intermediate = static_cast<std::int64_t>(expand * static_cast<double>(hidden));
  // fla's Mamba2Config derives num_heads from expand · hidden / head_dim; transformers' defaults to 128
  m.num_heads = cfg.positive_int("num_heads", fla_defaults ? std::max<std::int64_t>(1, intermediate / m.head_dim) : 128);
  m.n_groups = cfg.positive_int("n_groups", fla_defaults ? 1 : 8);
  m.state_size = cfg.positive_int("state_size", 128);
  m.conv_kernel = cfg.positive_int("conv_kernel", 4);
  m.chunk_size = cfg.bounded_int("chunk_size", 256, 1, kMaxChunk);
  m.use_bias = cfg.boolean("use_bias", false);
  m.use_conv_bias = cfg.boolean("use_conv_bias", true);
  m.d_has_hdim = cfg.boolean("D_has_hdim", false);
  m.norm_eps = norm_eps;
  if (m.intermediate() != intermediate)
    cfg.fail("head_dim", "num_heads · head_dim (" + std::to_string(m.num_heads) + " · " + std::to_string(m.head_dim) +
                             ") equal to expand · hidden_size (" + std::to_string(intermediate) + ")");
  if (m.num_heads % m.n_groups != 0) cfg.fail("n_groups", "a divisor of num_heads (" + std::to_string(m.num_heads) + ")");
  return m;
}

Family mamba_family(const std::string& library) {
  Family f{"mamba", "mamba", library, parse_mamba, ssm_tensors, build_ssm};
  f.from_tensor_names = resolve_prefix;
  return f;
}

Family mamba2_family(const std::string& library) {
  Family f{"mamba2", "mamba2", library, parse_mamba2, ssm_tensors, build_ssm};
  f.from_tensor_names = resolve_prefix;
  return f;
}

Family samba_family() {
  Family f{"samba", "samba", "fla", parse_samba, ssm_tensors, build_ssm};
  f.from_tensor_names = resolve_prefix;
  return f;
}

}  // namespace lmscope
