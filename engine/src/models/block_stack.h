// The decoder every family here is: token embeddings, pre-norm residual blocks (x += mixer(norm(x));
// x += mlp(norm(x)), the MLP optional), a final norm and the LM head. Families differ in their token mixers (softmax attention, the
// delta rule, ...) and in how their checkpoints name things; this holds the rest once: sequences and their
// per-layer state, RoPE tables, hidden-state capture in transformers' layout, logits.
#pragma once

#include <memory>
#include <vector>

#include "lmscope/model.h"
#include "models/swiglu_mlp.h"
#include "models/token_mixer.h"

namespace lmscope {

struct Block {
  Tensor mixer_norm;
  std::unique_ptr<TokenMixer> mixer;
  Tensor mlp_norm;
  SwigluMlp mlp;
  bool has_mlp = true;  // Mamba and Mamba2 blocks are the mixer alone
};

class BlockStackModel final : public Model {
 public:
  BlockStackModel(ModelSpec spec, std::shared_ptr<Backend> backend, Tensor embed, Tensor final_norm, Tensor lm_head,
                  std::vector<Block> blocks);

  const ModelSpec& spec() const override { return spec_; }
  std::string backend_name() const override { return backend_->name(); }
  std::unique_ptr<Sequence> new_sequence() const override;
  void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                   std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const override;
  std::int64_t peak_memory_bytes() const override { return backend_->peak_memory_bytes(); }
  void reset_peak_memory() const override { backend_->reset_peak_memory(); }

  Backend& backend() const { return *backend_; }
  const Tensor& embed() const { return embed_; }
  const Tensor& final_norm() const { return final_norm_; }
  const Tensor& lm_head() const { return lm_head_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  // Distinct RoPE uses, and for each block the index of its use (-1: none).
  const std::vector<RopeUse>& rope_uses() const { return rope_uses_; }
  const std::vector<int>& rope_slot() const { return rope_slot_; }
  // transformers' Mamba and Mamba2 return each block's output and then the final norm's (no embeddings) as their
  // hidden states, where the other models return the embeddings, blocks 0 .. L-2 and the final norm's output.
  void set_hidden_after_every_block(bool on) { hidden_after_every_block_ = on; }
  bool hidden_after_every_block() const { return hidden_after_every_block_; }

 private:
  ModelSpec spec_;
  std::shared_ptr<Backend> backend_;
  Tensor embed_, final_norm_, lm_head_;
  std::vector<Block> blocks_;
  std::vector<RopeUse> rope_uses_;
  std::vector<int> rope_slot_;
  bool hidden_after_every_block_ = false;
  // RoPE tables of the last batch length (score_batch), kept between calls.
  mutable std::vector<RopeTables> batch_rope_;
  mutable std::int64_t batch_rope_len_ = -1;
};

}  // namespace lmscope
