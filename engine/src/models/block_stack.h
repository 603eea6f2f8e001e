// The decoder every family here is: token embeddings, residual blocks of a token mixer and an MLP, a final norm
// and the LM head. Families differ in their token mixers (softmax attention, the delta rule, ...), in where the
// norms sit and in how their checkpoints name things; this holds the rest once: sequences and their per-layer
// state, RoPE tables, hidden-state capture in transformers' layout, logits.
// Where the norms sit, per block (x is the residual stream):
// - pre-norm (Llama and most):   x += mixer(n1(x));            x += mlp(n2(x))
// - sandwich (Gemma 2):          x += p1(mixer(n1(x)));        x += p2(mlp(n2(x)))
// - post-norm (OLMo 2):          x += p1(mixer(x));            x += p2(mlp(x))
// - parallel (GPT-NeoX):         x += mixer(n1(x)) + mlp(n2(x))
// A Block says which by the norms it has (n1 = mixer_norm, p1 = mixer_post_norm, n2 = mlp_norm, p2 = mlp_post_norm)
// and its `parallel` flag.
#pragma once

#include <memory>
#include <vector>

#include "lmscope/model.h"
#include "models/feed_forward.h"
#include "models/norm.h"
#include "models/token_mixer.h"

namespace lmscope {

struct Block {
  Norm mixer_norm;
  std::unique_ptr<TokenMixer> mixer;
  Norm mixer_post_norm;
  Norm mlp_norm;
  FeedForward mlp;
  Norm mlp_post_norm;
  bool has_mlp = true;    // Mamba and Mamba2 blocks are the mixer alone
  bool parallel = false;  // the MLP reads the block's input, not the mixer's output (GPT-NeoX)
};

// A stack's weights and blocks as a family's assembly declares them (models/weight_set.h): placeholders while
// collecting, the loaded model's parts while loading.
struct StackParts {
  Tensor embed, lm_head;
  Norm final_norm;
  std::vector<Block> blocks;
};

// What the whole stack does beyond its blocks.
struct StackOptions {
  NormKind norm = NormKind::Rms;  // every norm of the model, the final one included
  float embed_scale = 0.0f;       // > 0: embeddings are multiplied by it (Gemma: sqrt(hidden))
  float logit_softcap = 0.0f;     // > 0: logits z become softcap·tanh(z / softcap) (Gemma 2)
};

class BlockStackModel final : public Model {
 public:
  BlockStackModel(ModelSpec spec, std::shared_ptr<Backend> backend, Tensor embed, Norm final_norm, Tensor lm_head,
                  std::vector<Block> blocks, StackOptions options = {});

  const ModelSpec& spec() const override { return spec_; }
  std::string backend_name() const override { return backend_->name(); }
  std::unique_ptr<Sequence> new_sequence() const override;
  void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                   std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const override;
  bool pads_exactly(std::int64_t length, std::int64_t padded) const override;
  void decode_step(std::span<Sequence* const> seqs, std::span<const std::int32_t> tokens, std::span<std::int32_t> next) const override;
  std::int64_t peak_memory_bytes() const override { return backend_->peak_memory_bytes(); }
  void reset_peak_memory() const override { backend_->reset_peak_memory(); }

  Backend& backend() const { return *backend_; }
  const Tensor& embed() const { return embed_; }
  const Norm& final_norm() const { return final_norm_; }
  const StackOptions& options() const { return options_; }
  const Tensor& lm_head() const { return lm_head_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  // Distinct RoPE uses, and for each block the index of its use (-1: none).
  const std::vector<RopeUse>& rope_uses() const { return rope_uses_; }
  const std::vector<int>& rope_slot() const { return rope_slot_; }
  // transformers' Mamba and Mamba2 return each block's output and then the final norm's (no embeddings) as their
  // hidden states, where the other models return the embeddings, blocks 0 .. L-2 and the final norm's output.
  void set_hidden_after_every_block(bool on) { hidden_after_every_block_ = on; }
  bool hidden_after_every_block() const { return hidden_after_every_block_; }

  // One pass of every block over x [rows, hidden] (the residual stream, F32, embedded already); h and o are
  // scratch tensors of the same rows in the activation type. mix(layer, h, o) runs that layer's mixer.
  // after_block(x) sees the residual stream after each block but the last. At the end, with final_norm_into_h,
  // h = final_norm(x); otherwise x holds the last block's output, not normalised.
  template <typename Mix, typename AfterBlock>
  void run_blocks(Tensor& x, Tensor& h, Tensor& o, Mix&& mix, AfterBlock&& after_block, bool final_norm_into_h) const;
  // Embeds ids into x (F32 [ids, hidden]), scaled as the family says.
  void embed_tokens(std::span<const std::int32_t> ids, Tensor& x) const;
  // RoPE tables for `freq` covering at least `positions` rows, shared by all sequences of the model.
  std::shared_ptr<const RopeTables> rope_tables(const RopeFrequencies& freq, std::int64_t positions) const {
    return rope_cache_.get(*backend_, freq, positions);
  }

 private:
  ModelSpec spec_;
  std::shared_ptr<Backend> backend_;
  Tensor embed_;
  Norm final_norm_;
  Tensor lm_head_;
  StackOptions options_;
  std::vector<Block> blocks_;
  std::vector<RopeUse> rope_uses_;
  std::vector<int> rope_slot_;
  bool hidden_after_every_block_ = false;
  mutable RopeTableCache rope_cache_;  // every sequence's and every batch's tables
};

}  // namespace lmscope
