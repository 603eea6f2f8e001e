// fla's BitNet b1.58 (`bitnet`, fla/models/bitnet, fla/layers/bitattn.py): fla's Transformer++ whose attention
// projections q, k, v, o are BitLinear — each normalises its input with its own RMSNorm, quantises it to 8 bits
// per token (absmax) and multiplies with ternary weights {-1, 0, +1} · mean|W| (absmean), quantised here once at
// load from the stored float weights. The SwiGLU MLP stays full precision, as in fla since April 2025 (older fla
// used BitLinear there too, under other tensor names: such checkpoints fail the tensor check by name).
#include <string>

#include "models/decoder_recipe.h"
#include "models/fla_config.h"

namespace lmscope {
namespace {

void parse_bitnet(const ConfigFields& cfg, ModelSpec& s) {
  s.family = "bitnet";
  parse_fla_decoder_fields(cfg, s);
  s.num_heads = cfg.positive_int("num_heads", 32);
  s.num_kv_heads = cfg.positive_int("num_kv_heads", s.num_heads);
  if (s.hidden_size % s.num_heads != 0) cfg.fail("num_heads", "a divisor of hidden_size (" + std::to_string(s.hidden_size) + ")");
  if (s.num_heads % s.num_kv_heads != 0) cfg.fail("num_kv_heads", "a divisor of num_heads (" + std::to_string(s.num_heads) + ")");
  s.head_dim = s.hidden_size / s.num_heads;
  if (cfg.has("window_size")) s.window_size = cfg.positive_int("window_size");
  // fla's BitNet builds its RMSNorms without reading elementwise_affine: the norm weights are always used.
  cfg.boolean("elementwise_affine", true);
  s.rope = parse_rope_config(cfg, s.max_position_embeddings);
  validate_rope(s.rope, s.head_dim);
  s.details.emplace_back("quantisation", "BitLinear q/k/v/o: ternary weights (absmean scale per matrix), 8-bit "
                                         "activations (absmax per token) after the projection's own RMSNorm; "
                                         "embeddings, norms, MLP and lm_head in full precision");
  DecoderRecipe r = fla_transformer_recipe(s);
  r.attention_settings.bitlinear = true;
  set_recipe(s, std::move(r));
}

}  // namespace

Family bitnet_family() { return decoder_family("bitnet", "fla", {"BitNetForCausalLM"}, parse_bitnet); }

}  // namespace lmscope
