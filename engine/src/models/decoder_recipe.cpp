#include "models/decoder_recipe.h"

#include <cmath>

#include "lmscope/error.h"
#include "models/block_stack.h"
#include "models/feed_forward.h"
#include "models/weight_set.h"

namespace lmscope {
namespace {

// A norm module's tensors (none when module is empty); Gemma's (1 + w) folded into the weight.
Norm declare_norm(WeightSet& ws, const std::string& module, std::int64_t H, const DecoderRecipe& r) {
  Norm n;
  if (module.empty()) return n;
  if (r.norm_plus_one) {
    std::vector<float> w = ws.host_f32(module + ".weight", {H});
    if (ws.loading()) {
      for (float& v : w) v += 1.0f;
      n.weight = ws.backend().weight_from_host(w, {H});
    } else {
      n.weight.shape = {H};
    }
  } else {
    n.weight = ws.weight(module + ".weight", {H});
  }
  if (r.norm_bias) {
    n.bias = ws.weight(module + ".bias", {H});
    n.has_bias = true;
  }
  return n;
}

FeedForward declare_mlp(WeightSet& ws, const std::string& prefix, const DecoderRecipe& r, std::int64_t H, std::int64_t I,
                        float eps) {
  FeedForward f;
  if (!r.mlp_gated) {
    f.gated = false;
    f.up = declare_projection(ws, prefix + r.mlp_up, I, H, r.mlp_bias, r.format);
    f.down = declare_projection(ws, prefix + r.mlp_down, H, I, r.mlp_bias, r.format);
  } else if (r.mlp_fused_gate_up) {
    const Projection gate_up = declare_projection(ws, prefix + "gate_up_proj", 2 * I, H, r.mlp_bias, r.format);
    f.gate = projection_rows(gate_up, 0, I);  // the first half is the gate (transformers' chunk(2) order)
    f.up = projection_rows(gate_up, I, I);
    f.down = declare_projection(ws, prefix + r.mlp_down, H, I, r.mlp_bias, r.format);
  } else if (r.format.kind == ProjectionFormat::Kind::Plain) {
    f = declare_gated_mlp(ws, prefix, H, I, r.mlp_bias);
  } else {
    f.gate = declare_projection(ws, prefix + "gate_proj", I, H, r.mlp_bias, r.format);
    f.up = declare_projection(ws, prefix + "up_proj", I, H, r.mlp_bias, r.format);
    f.down = declare_projection(ws, prefix + r.mlp_down, H, I, r.mlp_bias, r.format);
  }
  f.act = r.act;
  if (r.mlp_sub_norm) {
    f.sub_norm.weight = ws.weight(prefix + "ffn_sub_norm.weight", {I});
    f.sub_norm_eps = eps;
  }
  return f;
}

// The one list of a recipe's tensors: run collecting for validation, loading for the model.
StackParts assemble(const ModelSpec& spec, WeightSet& ws, bool attention_softcap = true) {
  const DecoderRecipe& r = recipe_of(spec);
  const std::int64_t H = spec.hidden_size, V = spec.vocab_size;
  const float eps = static_cast<float>(spec.norm_eps);
  StackParts parts;
  parts.embed = ws.weight(r.embed, {V, H});
  for (std::int64_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = r.layer_prefix + std::to_string(l) + ".";
    const auto at = [&](const std::string& module) { return module.empty() ? module : p + module; };
    Block blk;
    blk.mixer_norm = declare_norm(ws, at(r.mixer_norm), H, r);
    AttentionSettings as = r.attention_settings;
    as.rope = spec.rope;
    if (!attention_softcap) as.softcap = 0;
    if (!r.layer_window.empty()) as.window = r.layer_window[static_cast<std::size_t>(l)];
    blk.mixer = declare_softmax_attention(ws, p + r.attention, H, as);
    blk.mixer_post_norm = declare_norm(ws, at(r.mixer_post_norm), H, r);
    blk.mlp_norm = declare_norm(ws, at(r.mlp_norm), H, r);
    blk.mlp = declare_mlp(ws, p + r.mlp, r, H, spec.intermediate_size, eps);
    blk.mlp_post_norm = declare_norm(ws, at(r.mlp_post_norm), H, r);
    blk.parallel = r.parallel;
    parts.blocks.push_back(std::move(blk));
  }
  parts.final_norm = declare_norm(ws, r.final_norm, H, r);
  parts.lm_head = spec.tie_word_embeddings ? parts.embed : ws.weight(r.lm_head, {V, H});
  return parts;
}

std::vector<ExpectedTensor> recipe_tensors(const ModelSpec& spec) {
  WeightSet ws;
  assemble(spec, ws);
  return ws.declared();
}

std::unique_ptr<Model> build_recipe(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  spec.rope = rope_with_override(spec.rope, opts, spec.head_dim);
  const DecoderRecipe& r = recipe_of(spec);
  WeightSet ws(*backend, ck);
  StackParts parts = assemble(spec, ws, opts.attention_softcap);
  StackOptions options;
  options.norm = r.norm;
  options.embed_scale = r.embed_scale;
  options.logit_softcap = r.logit_softcap;
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), parts.embed, parts.final_norm, parts.lm_head,
                                           std::move(parts.blocks), options);
}

}  // namespace

const DecoderRecipe& recipe_of(const ModelSpec& spec) {
  const auto* r = std::any_cast<DecoderRecipe>(&spec.family_config);
  if (!r) throw InternalError("model_type " + spec.model_type + ": no decoder recipe in the spec");
  return *r;
}

void set_recipe(ModelSpec& spec, DecoderRecipe recipe) { spec.family_config = std::move(recipe); }

DecoderRecipe fla_transformer_recipe(const ModelSpec& spec) {
  DecoderRecipe r;
  r.embed = "model.embeddings.weight";
  r.mixer_norm = "attn_norm";
  r.attention = "attn.";
  r.mlp_norm = "mlp_norm";
  AttentionSettings& a = r.attention_settings;
  a.num_heads = spec.num_heads;
  a.num_kv_heads = spec.num_kv_heads;
  a.head_dim = spec.head_dim;
  a.window = spec.window_size;
  return r;
}

Family decoder_family(std::string model_type, std::string library, std::vector<std::string> architectures,
                      std::function<void(const ConfigFields&, ModelSpec&)> parse) {
  Family f{"", std::move(model_type), std::move(library), std::move(parse), recipe_tensors, build_recipe};
  f.name = f.model_type;
  f.architectures = std::move(architectures);
  return f;
}

Activation activation_from_config(const ConfigFields& cfg, const std::string& key, const std::string& fallback) {
  const std::string a = cfg.string(key, fallback);
  if (a == "silu" || a == "swish") return Activation::Silu;
  if (a == "gelu") return Activation::Gelu;
  // gelu_fast's 0.5·x·(1 + tanh(0.79788456·x·(1 + 0.044715·x²))) is the same function as the tanh form
  if (a == "gelu_pytorch_tanh" || a == "gelu_new" || a == "gelu_fast") return Activation::GeluTanh;
  if (a == "relu") return Activation::Relu;
  if (a == "relu2") return Activation::ReluSquared;
  cfg.fail(key, "one of silu, gelu, gelu_pytorch_tanh, gelu_new, gelu_fast, relu, relu2 (got \"" + a + "\")");
}

std::vector<std::int64_t> windows_from_layer_types(const ConfigFields& cfg, std::int64_t num_layers, std::int64_t window) {
  if (!cfg.has("layer_types")) return {};
  const nlohmann::json& types = cfg.raw()["layer_types"];
  if (!types.is_array() || static_cast<std::int64_t>(types.size()) != num_layers)
    cfg.fail("layer_types", "a list of " + std::to_string(num_layers) + " layer types (one per layer)");
  std::vector<std::int64_t> out;
  for (const auto& t : types) {
    if (t == "sliding_attention") {
      if (window <= 0) cfg.fail("sliding_window", "a positive window, since layer_types has sliding_attention layers");
      out.push_back(window);
    } else if (t == "full_attention") {
      out.push_back(0);
    } else {
      cfg.fail("layer_types", "entries \"sliding_attention\" or \"full_attention\"");
    }
  }
  return out;
}

void parse_llama_like(const ConfigFields& cfg, ModelSpec& s, DecoderRecipe& r, const LlamaLikeDefaults& d) {
  s.layout = "transformers";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_attention_heads");
  s.num_kv_heads = cfg.positive_int("num_key_value_heads", d.num_key_value_heads > 0 ? d.num_key_value_heads : s.num_heads);
  if (s.num_heads % s.num_kv_heads != 0)
    cfg.fail("num_key_value_heads", "a divisor of num_attention_heads (" + std::to_string(s.num_heads) + ")");
  if (!cfg.has("head_dim") && s.hidden_size % s.num_heads != 0)
    cfg.fail("head_dim", "a value, since hidden_size is not a multiple of num_attention_heads");
  s.head_dim = cfg.positive_int("head_dim", s.hidden_size / s.num_heads);
  s.intermediate_size = cfg.positive_int("intermediate_size");
  s.norm_eps = cfg.number("rms_norm_eps", d.rms_norm_eps);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", d.tie_word_embeddings);
  s.attention_bias = cfg.boolean("attention_bias", false);
  s.mlp_bias = cfg.boolean("mlp_bias", false);
  if (cfg.positive_int("pretraining_tp", 1) != 1) cfg.fail("pretraining_tp", "1");
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", d.max_position_embeddings);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);

  AttentionSettings& a = r.attention_settings;
  a.num_heads = s.num_heads;
  a.num_kv_heads = s.num_kv_heads;
  a.head_dim = s.head_dim;
  a.qkv_bias = s.attention_bias;
  a.o_bias = s.attention_bias;  // transformers' LlamaAttention: o_proj takes attention_bias too
  r.mlp_bias = s.mlp_bias;
  r.act = activation_from_config(cfg, "hidden_act", "silu");
}

}  // namespace lmscope
