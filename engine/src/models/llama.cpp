// Llama-style decoder: pre-norm blocks of grouped-query softmax attention with RoPE and a SwiGLU MLP.
// Two checkpoint layouts share it: transformers' LlamaForCausalLM and flash-linear-attention's `transformer`
// (Transformer++). They differ only in tensor names and config field names.
#include <cmath>
#include <string>

#include "lmscope/error.h"
#include "models/block_stack.h"
#include "models/family.h"
#include "models/fla_config.h"
#include "models/projection.h"
#include "models/softmax_attention.h"

namespace lmscope {
namespace {

// Tensor names of one layout.
struct DecoderNames {
  std::string embed, final_norm, lm_head;
  std::string layer_prefix;  // followed by the layer index and '.'
  std::string attn_norm, attn, mlp_norm, mlp;  // attn and mlp: module prefixes with their dot
};

const DecoderNames kTransformersNames{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.",
                                      "input_layernorm.weight", "self_attn.", "post_attention_layernorm.weight", "mlp."};
const DecoderNames kFlaNames{"model.embeddings.weight", "model.norm.weight", "lm_head.weight", "model.layers.",
                             "attn_norm.weight", "attn.", "mlp_norm.weight", "mlp."};

const DecoderNames& names_for(const ModelSpec& s) { return s.layout == "fla" ? kFlaNames : kTransformersNames; }

AttentionSettings attention_settings(const ModelSpec& s) {
  AttentionSettings a;
  a.num_heads = s.num_heads;
  a.num_kv_heads = s.num_kv_heads;
  a.head_dim = s.head_dim;
  a.window = s.window_size;
  a.qkv_bias = s.attention_bias;
  a.rope = s.rope;
  return a;
}

std::vector<ExpectedTensor> decoder_tensors(const ModelSpec& s) {
  const auto& n = names_for(s);
  const std::int64_t H = s.hidden_size;
  std::vector<ExpectedTensor> t{{n.embed, {s.vocab_size, H}}};
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = n.layer_prefix + std::to_string(l) + ".";
    t.push_back({p + n.attn_norm, {H}});
    add_attention_tensors(t, p + n.attn, H, attention_settings(s));
    t.push_back({p + n.mlp_norm, {H}});
    add_swiglu_mlp_tensors(t, p + n.mlp, H, s.intermediate_size, s.mlp_bias);
  }
  t.push_back({n.final_norm, {H}});
  if (!s.tie_word_embeddings) t.push_back({n.lm_head, {s.vocab_size, H}});
  return t;
}

void check_heads(const ConfigFields& cfg, const ModelSpec& s, const std::string& heads_key, const std::string& kv_key) {
  if (s.num_heads % s.num_kv_heads != 0)
    cfg.fail(kv_key, "a divisor of " + heads_key + " (" + std::to_string(s.num_heads) + ")");
}

void parse_llama(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "llama";
  s.layout = "transformers";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_attention_heads");
  s.num_kv_heads = cfg.positive_int("num_key_value_heads", s.num_heads);
  check_heads(cfg, s, "num_attention_heads", "num_key_value_heads");
  if (!cfg.has("head_dim") && s.hidden_size % s.num_heads != 0)
    cfg.fail("head_dim", "a value, since hidden_size is not a multiple of num_attention_heads");
  s.head_dim = cfg.positive_int("head_dim", s.hidden_size / s.num_heads);
  s.intermediate_size = cfg.positive_int("intermediate_size");
  s.norm_eps = cfg.number("rms_norm_eps", 1e-6);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.attention_bias = cfg.boolean("attention_bias", false);
  s.mlp_bias = cfg.boolean("mlp_bias", false);
  const std::string act = cfg.string("hidden_act", "silu");
  if (act != "silu" && act != "swish") cfg.fail("hidden_act", "\"silu\" (the only activation implemented for llama)");
  if (cfg.positive_int("pretraining_tp", 1) != 1) cfg.fail("pretraining_tp", "1");
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);
}

void parse_fla_transformer(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "llama";
  s.layout = "fla";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_heads");
  s.num_kv_heads = cfg.positive_int("num_kv_heads", s.num_heads);
  check_heads(cfg, s, "num_heads", "num_kv_heads");
  if (s.hidden_size % s.num_heads != 0) cfg.fail("num_heads", "a divisor of hidden_size");
  s.head_dim = s.hidden_size / s.num_heads;
  s.intermediate_size = fla_intermediate_size(cfg, s.hidden_size);
  s.norm_eps = cfg.number("norm_eps", 1e-6);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.attention_bias = cfg.boolean("qkv_bias", false);
  if (cfg.boolean("qk_norm", false)) cfg.fail("qk_norm", "false (query/key norm is not implemented yet)");
  cfg.boolean("use_l2warp", false);  // a training-time penalty on the loss: the logits are the same either way
  if (cfg.has("attnres_block_size")) cfg.fail("attnres_block_size", "null (not implemented)");
  if (!cfg.boolean("elementwise_affine", true)) cfg.fail("elementwise_affine", "true (norms without weights are not implemented)");
  const std::string act = cfg.string("hidden_act", "swish");
  if (act != "silu" && act != "swish") cfg.fail("hidden_act", "\"swish\"");
  if (cfg.has("window_size")) s.window_size = cfg.positive_int("window_size");
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);
}

std::unique_ptr<Model> build_decoder(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  spec.rope = rope_with_override(spec.rope, opts, spec.head_dim);
  const auto& n = names_for(spec);
  Backend& b = *backend;
  std::vector<Block> blocks;
  for (std::int64_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = n.layer_prefix + std::to_string(l) + ".";
    blocks.push_back({load_weight(b, ck, p + n.attn_norm), load_softmax_attention(b, ck, p + n.attn, attention_settings(spec)),
                      load_weight(b, ck, p + n.mlp_norm), load_swiglu_mlp(b, ck, p + n.mlp, spec.mlp_bias)});
  }
  Tensor embed = load_weight(b, ck, n.embed);
  Tensor lm_head = spec.tie_word_embeddings ? embed : load_weight(b, ck, n.lm_head);
  Tensor final_norm = load_weight(b, ck, n.final_norm);
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), embed, final_norm, lm_head, std::move(blocks));
}

Family make_family(std::string model_type, std::string library,
                   std::function<void(const ConfigFields&, ModelSpec&)> parse) {
  return Family{"llama", std::move(model_type), std::move(library), std::move(parse), decoder_tensors, build_decoder};
}

}  // namespace

Family llama_family() { return make_family("llama", "transformers", parse_llama); }
Family fla_transformer_family() { return make_family("transformer", "fla", parse_fla_transformer); }

}  // namespace lmscope
