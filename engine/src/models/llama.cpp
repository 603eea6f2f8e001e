// Llama-style decoder: pre-norm blocks of grouped-query softmax attention with RoPE and a SwiGLU MLP.
// Two checkpoint layouts share it: transformers' LlamaForCausalLM (also SmolLM, TinyLlama and other Llama-layout
// checkpoints) and flash-linear-attention's `transformer` (Transformer++). They differ only in tensor and config
// field names.
#include <string>

#include "lmscope/error.h"
#include "models/decoder_recipe.h"
#include "models/fla_config.h"

namespace lmscope {
namespace {

void parse_llama(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "llama";
  parse_llama_like(cfg, s, r);
  if (r.act != Activation::Silu) cfg.fail("hidden_act", "\"silu\" (the only activation implemented for llama)");
  set_recipe(s, std::move(r));
}

void parse_fla_transformer(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "llama";
  s.layout = "fla";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_heads");
  s.num_kv_heads = cfg.positive_int("num_kv_heads", s.num_heads);
  if (s.num_heads % s.num_kv_heads != 0) cfg.fail("num_kv_heads", "a divisor of num_heads (" + std::to_string(s.num_heads) + ")");
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

  DecoderRecipe r = fla_transformer_recipe(s);
  r.attention_settings.qkv_bias = s.attention_bias;  // fla's o_proj has no bias
  set_recipe(s, std::move(r));
}

}  // namespace

Family llama_family() { return decoder_family("llama", "transformers", {"LlamaForCausalLM", "LLaMAForCausalLM"}, parse_llama); }
Family fla_transformer_family() {
  return decoder_family("transformer", "fla", {"TransformerForCausalLM"}, parse_fla_transformer);
}

}  // namespace lmscope
