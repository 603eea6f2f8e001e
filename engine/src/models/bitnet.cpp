// fla's BitNet b1.58 (`bitnet`, fla/models/bitnet, fla/layers/bitattn.py): fla's Transformer++ whose attention
// projections q, k, v, o are BitLinear — each normalises its input with its own RMSNorm, quantises it to 8 bits
// per token (absmax) and multiplies with ternary weights {-1, 0, +1} · mean|W| (absmean), quantised here once at
// load from the stored float weights. The SwiGLU MLP stays full precision, as in fla since April 2025 (older fla
// used BitLinear there too, under other tensor names: such checkpoints fail the tensor check by name).
#include <string>

#include "models/block_stack.h"
#include "models/family.h"
#include "models/fla_config.h"
#include "models/projection.h"
#include "models/softmax_attention.h"

namespace lmscope {
namespace {

AttentionSettings bit_attention(const ModelSpec& s) {
  AttentionSettings a;
  a.num_heads = s.num_heads;
  a.num_kv_heads = s.num_kv_heads;
  a.head_dim = s.head_dim;
  a.window = s.window_size;
  a.bitlinear = true;
  a.rope = s.rope;
  return a;
}

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
}

std::vector<ExpectedTensor> bitnet_tensors(const ModelSpec& s) {
  const std::int64_t H = s.hidden_size;
  std::vector<ExpectedTensor> t{{"model.embeddings.weight", {s.vocab_size, H}}};
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "attn_norm.weight", {H}});
    add_attention_tensors(t, p + "attn.", H, bit_attention(s));
    t.push_back({p + "mlp_norm.weight", {H}});
    add_swiglu_mlp_tensors(t, p + "mlp.", H, s.intermediate_size, false);
  }
  t.push_back({"model.norm.weight", {H}});
  if (!s.tie_word_embeddings) t.push_back({"lm_head.weight", {s.vocab_size, H}});
  return t;
}

std::unique_ptr<Model> build_bitnet(const Checkpoint& ck, std::shared_ptr<Backend> backend, const LoadOptions& opts) {
  ModelSpec spec = ck.spec();
  spec.rope = rope_with_override(spec.rope, opts, spec.head_dim);
  Backend& b = *backend;
  std::vector<Block> blocks;
  for (std::int64_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    blocks.push_back({load_weight(b, ck, p + "attn_norm.weight"), load_softmax_attention(b, ck, p + "attn.", bit_attention(spec)),
                      load_weight(b, ck, p + "mlp_norm.weight"), load_swiglu_mlp(b, ck, p + "mlp.", false)});
  }
  Tensor embed = load_weight(b, ck, "model.embeddings.weight");
  Tensor lm_head = spec.tie_word_embeddings ? embed : load_weight(b, ck, "lm_head.weight");
  Tensor final_norm = load_weight(b, ck, "model.norm.weight");
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), embed, final_norm, lm_head, std::move(blocks));
}

}  // namespace

Family bitnet_family() { return Family{"bitnet", "bitnet", "fla", parse_bitnet, bitnet_tensors, build_bitnet}; }

}  // namespace lmscope
