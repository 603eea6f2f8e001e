// Phi-3 / Phi-3.5 (transformers' Phi3ForCausalLM): Llama's decoder with q, k, v stored as one qkv_proj matrix and
// the MLP's gate and up as one gate_up_proj (gate first), usually LongRoPE with short and long factors, and an
// optional sliding window on every layer (Phi-3-mini-4k: 2047).
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

void parse_phi3(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "phi3";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-5, false, 0, 4096});  // transformers' config defaults
  s.attention_bias = s.mlp_bias = false;  // Phi3Attention / Phi3MLP: no biases
  r.attention_settings.qkv_bias = r.attention_settings.o_bias = r.mlp_bias = false;
  r.attention_settings.qkv_layout = QkvLayout::Stacked;
  r.mlp_fused_gate_up = true;
  if (cfg.has("sliding_window")) s.window_size = cfg.positive_int("sliding_window");
  r.attention_settings.window = s.window_size;
  if (s.window_size > 0) s.details.emplace_back("attention", "sliding window of " + std::to_string(s.window_size) + " on every layer");
  s.details.emplace_back("fused weights", "qkv_proj and gate_up_proj, split at load");
  set_recipe(s, std::move(r));
}

}  // namespace

Family phi3_family() { return decoder_family("phi3", "transformers", {"Phi3ForCausalLM"}, parse_phi3); }

}  // namespace lmscope
