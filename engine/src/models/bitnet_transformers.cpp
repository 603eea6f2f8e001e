// transformers' BitNet (`bitnet`, BitNetForCausalLM; microsoft/bitnet-b1.58-2B-4T): Llama's decoder with an RMSNorm
// of the attention output before o_proj (attn_sub_norm), a gated relu² MLP with an RMSNorm before down_proj
// (ffn_sub_norm), and — per its quantization_config (quant_method "bitnet") — every linear of the blocks a BitLinear:
// 8-bit activations (absmax per token, torch.round) times ternary weights stored packed four to a byte with a
// per-matrix weight_scale (projection.h). The embeddings and LM head stay full precision, as transformers leaves
// the output embedding unconverted.
// fla's BitNet uses the same model_type; its configs name heads `num_heads` where transformers' say
// `num_attention_heads`, which is how the two are told apart (both call their class BitNetForCausalLM).
#include "models/decoder_recipe.h"

namespace lmscope {
namespace {

ProjectionFormat parse_quantization(const ConfigFields& cfg, ModelSpec& s) {
  ProjectionFormat f;
  if (!cfg.has("quantization_config")) {
    s.details.emplace_back("quantisation", "none (no quantization_config): full-precision linears, as transformers runs them");
    return f;
  }
  const ConfigFields q = cfg.object("quantization_config");
  const std::string method = q.string("quant_method", "");
  if (method != "bitnet") q.fail("quant_method", "\"bitnet\" (the only quantisation lmscope reads)");
  const std::string cls = q.string("linear_class", "bitlinear");
  const std::string mode = q.string("quantization_mode", "offline");
  if (cls == "bitlinear" && mode == "offline")
    f.kind = ProjectionFormat::Kind::PackedBitLinear;
  else if (cls == "autobitlinear" && mode == "offline")
    f.kind = ProjectionFormat::Kind::PackedAutoBitLinear;
  else if (cls == "autobitlinear" && mode == "online")
    f.kind = ProjectionFormat::Kind::OnlineAutoBitLinear;
  else
    q.fail(cls != "bitlinear" && cls != "autobitlinear" ? "linear_class" : "quantization_mode",
           "linear_class \"bitlinear\" with quantization_mode \"offline\", or \"autobitlinear\" with either mode");
  f.input_norm = q.boolean("use_rms_norm", false);
  f.input_norm_eps = static_cast<float>(q.number("rms_norm_eps", 1e-6));
  if (q.has("modules_to_not_convert")) {
    // Only the default (the LM head stays full precision) is implemented: another list changes which matrices
    // are ternary.
    const nlohmann::json& m = q.raw()["modules_to_not_convert"];
    const bool lm_head_only = m.is_array() && m.size() == 1 && m[0] == "lm_head";
    if (!lm_head_only && !(m.is_array() && m.empty()))
      q.fail("modules_to_not_convert", "null or [\"lm_head\"] (other lists are not implemented)");
  }
  s.details.emplace_back("quantisation", std::string(f.kind == ProjectionFormat::Kind::OnlineAutoBitLinear
                                                         ? "ternary weights quantised at load (absmean)"
                                                         : "ternary weights packed 2 bits each with a per-matrix scale") +
                                             ", 8-bit activations (absmax per token) in every linear of the blocks" +
                                             (f.input_norm ? " after an RMSNorm" : "") +
                                             "; embeddings, norms and lm_head in full precision");
  return f;
}

void parse_bitnet_transformers(const ConfigFields& cfg, ModelSpec& s) {
  DecoderRecipe r;
  s.family = "bitnet";
  parse_llama_like(cfg, s, r, LlamaLikeDefaults{1e-5, false, 5, 2048});  // transformers' config defaults
  r.act = activation_from_config(cfg, "hidden_act", "relu2");
  r.format = parse_quantization(cfg, s);
  r.attention_settings.format = r.format;
  r.attention_settings.sub_norm = true;
  r.attention_settings.sub_norm_eps = static_cast<float>(s.norm_eps);
  r.mlp_sub_norm = true;
  set_recipe(s, std::move(r));
}

// model_type "bitnet" is fla's or transformers': fla's configs say num_heads, transformers' num_attention_heads.
void parse_bitnet(const ConfigFields& cfg, ModelSpec& s) {
  if (!cfg.has("num_attention_heads") && !cfg.has("quantization_config") && cfg.has("num_heads")) {
    bitnet_family().parse(cfg, s);  // sets layout "fla"
    return;
  }
  parse_bitnet_transformers(cfg, s);
}

}  // namespace

Family bitnet_transformers_family() {
  Family f = decoder_family("bitnet", "transformers", {"BitNetForCausalLM"}, parse_bitnet);
  f.reads_quantization_config = true;
  return f;
}

}  // namespace lmscope
