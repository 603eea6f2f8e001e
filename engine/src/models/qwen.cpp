// Qwen2 / Qwen2.5 and Qwen3 (transformers' Qwen2ForCausalLM, Qwen3ForCausalLM): Llama's decoder; Qwen2 always has
// q/k/v biases (no o bias, no attention_bias field), Qwen3 normalises each head's q and k (RMSNorm over head_dim,
// before RoPE) and has attention_bias. Both may use a sliding window on the layers from max_window_layers on, when
// use_sliding_window is set (transformers 5 writes the result as layer_types).
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

// Qwen's windows: layer_types when present, else sliding from max_window_layers on when use_sliding_window.
void parse_qwen_windows(const ConfigFields& cfg, ModelSpec& s, DecoderRecipe& r) {
  const bool use = cfg.boolean("use_sliding_window", false);
  const std::int64_t window = use && cfg.has("sliding_window") ? cfg.positive_int("sliding_window") : 0;
  r.layer_window = windows_from_layer_types(cfg, s.num_layers, window);
  if (r.layer_window.empty() && window > 0) {
    const std::int64_t first = cfg.positive_int("max_window_layers", 28);
    for (std::int64_t l = 0; l < s.num_layers; ++l) r.layer_window.push_back(l >= first ? window : 0);
  }
  std::int64_t sliding = 0;
  for (auto w : r.layer_window) sliding += w > 0;
  if (sliding > 0) {
    s.window_size = window;
    s.details.emplace_back("attention", "sliding window of " + std::to_string(window) + " on " + std::to_string(sliding) + " of " +
                                            std::to_string(s.num_layers) + " layers");
  } else {
    r.layer_window.clear();
  }
}

void parse_qwen2(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "qwen2";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-6, false, 32, 32768});  // transformers' config defaults
  s.attention_bias = true;  // Qwen2Attention: q/k/v always biased, o never
  r.attention_settings.qkv_bias = true;
  r.attention_settings.o_bias = false;
  s.mlp_bias = r.mlp_bias = false;  // Qwen2MLP has no biases (and no mlp_bias field)
  parse_qwen_windows(cfg, s, r);
  set_recipe(s, std::move(r));
}

void parse_qwen3(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "qwen3";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-6, false, 32, 32768});  // transformers' config defaults
  r.attention_settings.qk_norm = AttentionQkNorm::PerHead;
  r.attention_settings.qk_norm_eps = static_cast<float>(s.norm_eps);
  s.details.emplace_back("q/k norm", "RMSNorm of each head's q and k before RoPE");
  s.mlp_bias = r.mlp_bias = false;  // Qwen3MLP has no biases
  parse_qwen_windows(cfg, s, r);
  set_recipe(s, std::move(r));
}

}  // namespace

Family qwen2_family() { return decoder_family("qwen2", "transformers", {"Qwen2ForCausalLM"}, parse_qwen2); }
Family qwen3_family() { return decoder_family("qwen3", "transformers", {"Qwen3ForCausalLM"}, parse_qwen3); }

}  // namespace lmscope
