// Gemma 2 (transformers' Gemma2ForCausalLM): "sandwich" blocks (a norm before and after both the attention and the
// MLP), RMSNorms that multiply by (1 + weight), embeddings scaled by sqrt(hidden_size), a GeGLU MLP (gelu, tanh
// form), queries scaled by query_pre_attn_scalar^-1/2, attention scores and final logits soft-capped (tanh), and
// sliding-window attention on alternate layers (layer 0, 2, ...; or as `layer_types` lists them).
#include <cmath>

#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

void parse_gemma2(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "gemma2";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-6, true, 4, 8192});  // transformers' config defaults
  s.mlp_bias = r.mlp_bias = false;  // Gemma2MLP has no biases
  r.act = activation_from_config(cfg, cfg.has("hidden_activation") ? "hidden_activation" : "hidden_act", "gelu_pytorch_tanh");
  r.mixer_post_norm = "post_attention_layernorm";
  r.mlp_norm = "pre_feedforward_layernorm";
  r.mlp_post_norm = "post_feedforward_layernorm";
  r.norm_plus_one = true;
  r.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(s.hidden_size)));
  AttentionSettings& a = r.attention_settings;
  const double qpas = cfg.has("query_pre_attn_scalar") ? cfg.number("query_pre_attn_scalar", 256) : 256;
  if (!(qpas > 0)) cfg.fail("query_pre_attn_scalar", "a positive number");
  a.scale = static_cast<float>(1.0 / std::sqrt(qpas));
  if (cfg.has("attn_logit_softcapping")) a.softcap = static_cast<float>(cfg.number("attn_logit_softcapping", 0));
  if (cfg.has("final_logit_softcapping")) r.logit_softcap = static_cast<float>(cfg.number("final_logit_softcapping", 0));
  if (a.softcap < 0) cfg.fail("attn_logit_softcapping", "a positive number or null");
  if (r.logit_softcap < 0) cfg.fail("final_logit_softcapping", "a positive number or null");
  const std::int64_t window = cfg.has("sliding_window") ? cfg.positive_int("sliding_window") : 4096;
  r.layer_window = windows_from_layer_types(cfg, s.num_layers, window);
  if (r.layer_window.empty())  // transformers' default: layers 0, 2, 4, ... slide, 1, 3, ... see everything
    for (std::int64_t l = 0; l < s.num_layers; ++l) r.layer_window.push_back((l + 1) % 2 ? window : 0);
  s.window_size = window;
  s.details.emplace_back("attention", "sliding window of " + std::to_string(window) +
                                          " on alternate layers; score soft-cap " + std::to_string(a.softcap) +
                                          ", query scale query_pre_attn_scalar^-1/2");
  s.details.emplace_back("logits", r.logit_softcap > 0 ? "soft-capped at " + std::to_string(r.logit_softcap) : "not capped");
  set_recipe(s, std::move(r));
}

}  // namespace

Family gemma2_family() { return decoder_family("gemma2", "transformers", {"Gemma2ForCausalLM"}, parse_gemma2); }

}  // namespace lmscope
