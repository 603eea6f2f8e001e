#include "models/fla_stack.h"

#include "models/feed_forward.h"
#include "models/softmax_attention.h"
#include "models/weight_set.h"

namespace lmscope {

std::string fla_layer_prefix(std::int64_t layer) { return "model.layers." + std::to_string(layer) + "."; }

StackParts assemble_fla_stack(const ModelSpec& s, WeightSet& ws, const LoadOptions& opts,
                              const std::vector<HybridAttention>& attention, const FlaMixerDeclare& declare_mixer,
                              const FlaAfterEmbeddings& after_embeddings) {
  const std::int64_t H = s.hidden_size;
  StackParts parts;
  parts.embed = ws.weight("model.embeddings.weight", {s.vocab_size, H});
  if (after_embeddings) after_embeddings(ws);
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = fla_layer_prefix(l);
    Block blk;
    blk.mixer_norm.weight = ws.weight(p + "attn_norm.weight", {H});
    if (const HybridAttention* a = hybrid_attention_at(attention, l)) {
      AttentionSettings as = hybrid_attention_settings(*a, s);
      as.rope = rope_with_override(as.rope, opts, as.head_dim);
      blk.mixer = declare_softmax_attention(ws, p + "attn.", H, as);
    } else {
      blk.mixer = declare_mixer(ws, p + "attn.", l);
    }
    blk.mlp_norm.weight = ws.weight(p + "mlp_norm.weight", {H});
    blk.mlp = declare_gated_mlp(ws, p + "mlp.", H, s.intermediate_size, false);
    parts.blocks.push_back(std::move(blk));
  }
  parts.final_norm.weight = ws.weight("model.norm.weight", {H});
  parts.lm_head = s.tie_word_embeddings ? parts.embed : ws.weight("lm_head.weight", {s.vocab_size, H});
  return parts;
}

}  // namespace lmscope
