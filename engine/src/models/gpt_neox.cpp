// GPT-NeoX / Pythia (transformers' GPTNeoXForCausalLM): LayerNorms with biases, q/k/v in one query_key_value
// matrix laid out head by head, rotary embedding on the first rotary_pct of each head, a plain MLP (dense_h_to_4h,
// gelu, dense_4h_to_h) with biases, and the parallel residual: x + attention(ln1(x)) + mlp(ln2(x)) (or, with
// use_parallel_residual false, the two in sequence). Untied output matrix `embed_out`.
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

void parse_gpt_neox(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "gpt_neox";
  s.layout = "transformers";
  s.vocab_size = cfg.positive_int("vocab_size");
  s.hidden_size = cfg.positive_int("hidden_size");
  s.num_layers = cfg.positive_int("num_hidden_layers");
  s.num_heads = cfg.positive_int("num_attention_heads");
  s.num_kv_heads = s.num_heads;
  if (s.hidden_size % s.num_heads != 0) cfg.fail("num_attention_heads", "a divisor of hidden_size");
  s.head_dim = s.hidden_size / s.num_heads;
  s.intermediate_size = cfg.positive_int("intermediate_size");
  s.norm_eps = cfg.number("layer_norm_eps", 1e-5);
  s.tie_word_embeddings = cfg.boolean("tie_word_embeddings", false);
  s.attention_bias = cfg.boolean("attention_bias", true);
  s.mlp_bias = true;  // GPTNeoXMLP's two linears always have biases
  s.max_position_embeddings = cfg.positive_int("max_position_embeddings", 2048);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  if (!cfg.has("rope_parameters")) {  // the published layout: rotary_pct and rotary_emb_base (transformers' defaults)
    s.rope.partial_rotary_factor = cfg.number("rotary_pct", 0.25);
    if (cfg.has("rotary_emb_base")) s.rope.theta = cfg.number("rotary_emb_base", 10000.0);
  }
  validate_rope(s.rope, s.head_dim);

  r.embed = "gpt_neox.embed_in.weight";
  r.final_norm = "gpt_neox.final_layer_norm";
  r.lm_head = "embed_out.weight";
  r.layer_prefix = "gpt_neox.layers.";
  r.attention = "attention.";
  r.mixer_norm = "input_layernorm";
  r.mlp_norm = "post_attention_layernorm";
  r.norm = NormKind::Layer;
  r.norm_bias = true;
  r.parallel = cfg.boolean("use_parallel_residual", true);
  AttentionSettings& a = r.attention_settings;
  a.num_heads = a.num_kv_heads = s.num_heads;
  a.head_dim = s.head_dim;
  a.qkv_bias = a.o_bias = s.attention_bias;  // query_key_value and dense both take attention_bias
  a.qkv_layout = QkvLayout::PerHead;
  a.names.qkv = "query_key_value";
  a.names.o = "dense";
  r.mlp_gated = false;
  r.mlp_up = "dense_h_to_4h";
  r.mlp_down = "dense_4h_to_h";
  r.mlp_bias = true;
  r.act = activation_from_config(cfg, "hidden_act", "gelu");
  s.details.emplace_back("blocks", std::string(r.parallel ? "parallel residual: x + attn(ln1(x)) + mlp(ln2(x))" : "sequential residual") +
                                       ", LayerNorm with bias");
  s.details.emplace_back("rotary", "on " + std::to_string(static_cast<int>(s.rope.partial_rotary_factor * 100 + 0.5)) +
                                       "% of each head's dimensions");
  set_recipe(s, std::move(r));
}

}  // namespace

Family gpt_neox_family() { return decoder_family("gpt_neox", "transformers", {"GPTNeoXForCausalLM"}, parse_gpt_neox); }

}  // namespace lmscope
