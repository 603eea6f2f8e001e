#include "models/fla_stack.h"

#include "models/block_stack.h"
#include "models/projection.h"
#include "models/softmax_attention.h"
#include "models/feed_forward.h"

namespace lmscope {

std::string fla_layer_prefix(std::int64_t layer) { return "model.layers." + std::to_string(layer) + "."; }

std::vector<ExpectedTensor> fla_stack_tensors(const ModelSpec& s, const std::vector<HybridAttention>& attention,
                                              const FlaMixerTensors& mixer_tensors,
                                              std::vector<ExpectedTensor> after_embeddings) {
  const std::int64_t H = s.hidden_size;
  std::vector<ExpectedTensor> t{{"model.embeddings.weight", {s.vocab_size, H}}};
  t.insert(t.end(), after_embeddings.begin(), after_embeddings.end());
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = fla_layer_prefix(l);
    t.push_back({p + "attn_norm.weight", {H}});
    if (const HybridAttention* a = hybrid_attention_at(attention, l))
      add_attention_tensors(t, p + "attn.", H, hybrid_attention_settings(*a, s));
    else
      mixer_tensors(t, p + "attn.", l);
    t.push_back({p + "mlp_norm.weight", {H}});
    add_swiglu_mlp_tensors(t, p + "mlp.", H, s.intermediate_size, false);
  }
  t.push_back({"model.norm.weight", {H}});
  if (!s.tie_word_embeddings) t.push_back({"lm_head.weight", {s.vocab_size, H}});
  return t;
}

std::unique_ptr<Model> build_fla_stack(const Checkpoint& ck, std::shared_ptr<Backend> backend, ModelSpec spec,
                                       const std::vector<HybridAttention>& attention, const LoadOptions& opts,
                                       const FlaMixerLoader& load_mixer) {
  Backend& b = *backend;
  std::vector<Block> blocks;
  for (std::int64_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = fla_layer_prefix(l);
    std::unique_ptr<TokenMixer> mixer;
    if (const HybridAttention* a = hybrid_attention_at(attention, l)) {
      AttentionSettings as = hybrid_attention_settings(*a, spec);
      as.rope = rope_with_override(as.rope, opts, as.head_dim);
      mixer = load_softmax_attention(b, ck, p + "attn.", as);
    } else {
      mixer = load_mixer(b, p + "attn.", l);
    }
    Block blk;
    blk.mixer_norm.weight = load_weight(b, ck, p + "attn_norm.weight");
    blk.mixer = std::move(mixer);
    blk.mlp_norm.weight = load_weight(b, ck, p + "mlp_norm.weight");
    blk.mlp = load_swiglu_mlp(b, ck, p + "mlp.", false);
    blocks.push_back(std::move(blk));
  }
  Tensor embed = load_weight(b, ck, "model.embeddings.weight");
  Tensor lm_head = spec.tie_word_embeddings ? embed : load_weight(b, ck, "lm_head.weight");
  Norm final_norm{load_weight(b, ck, "model.norm.weight")};
  return std::make_unique<BlockStackModel>(std::move(spec), std::move(backend), embed, final_norm, lm_head, std::move(blocks));
}

}  // namespace lmscope
