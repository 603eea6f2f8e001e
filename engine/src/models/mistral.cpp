// Mistral (transformers' MistralForCausalLM): Llama's decoder with a sliding window on every layer when the config
// sets `sliding_window` (Mistral 7B v0.1: 4096; later versions null: full attention).
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

void parse_mistral(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "mistral";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-6, false, 8, 131072});  // transformers' config defaults
  s.attention_bias = s.mlp_bias = false;  // MistralAttention / MistralMLP have no biases
  r.attention_settings.qkv_bias = r.attention_settings.o_bias = r.mlp_bias = false;
  if (cfg.has("sliding_window")) s.window_size = cfg.positive_int("sliding_window");
  r.attention_settings.window = s.window_size;
  if (s.window_size > 0) s.details.emplace_back("attention", "sliding window of " + std::to_string(s.window_size) + " on every layer");
  set_recipe(s, std::move(r));
}

}  // namespace

Family mistral_family() { return decoder_family("mistral", "transformers", {"MistralForCausalLM"}, parse_mistral); }

}  // namespace lmscope
