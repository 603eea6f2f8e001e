// OLMo 2 (transformers' Olmo2ForCausalLM): post-norm blocks — x + norm(attention(x)), then x + norm(mlp(x)), no
// norm before either — and q and k normalised over all heads together (RMSNorm over the whole q / k row, before
// RoPE). Otherwise Llama's decoder.
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

void parse_olmo2(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "olmo2";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-5, false, 0, 2048});  // transformers' config defaults
  s.mlp_bias = r.mlp_bias = false;  // Olmo2MLP has no biases
  r.mixer_norm = "";
  r.mixer_post_norm = "post_attention_layernorm";
  r.mlp_norm = "";
  r.mlp_post_norm = "post_feedforward_layernorm";
  r.attention_settings.qk_norm = AttentionQkNorm::AllHeads;
  r.attention_settings.qk_norm_eps = static_cast<float>(s.norm_eps);
  s.details.emplace_back("blocks", "post-norm: x + norm(attn(x)), x + norm(mlp(x)); q/k RMSNorm over all heads");
  set_recipe(s, std::move(r));
}

}  // namespace

Family olmo2_family() { return decoder_family("olmo2", "transformers", {"Olmo2ForCausalLM"}, parse_olmo2); }

}  // namespace lmscope
