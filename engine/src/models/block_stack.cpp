#include "models/block_stack.h"

#include <algorithm>
#include <string>

#include "lmscope/error.h"
#include "models/output_head.h"

namespace lmscope {
namespace {

class BlockStackSequence final : public Sequence {
 public:
  explicit BlockStackSequence(const BlockStackModel& m) : m_(m), tables_(m.rope_uses().size()) { reset(); }

  void append(std::span<const std::int32_t> tokens, const AppendOutput& out) override;
  std::int64_t length() const override { return static_cast<std::int64_t>(history_.size()); }
  void reset() override {
    history_.clear();
    processed_ = 0;
    states_.clear();
    for (const auto& b : m_.blocks()) states_.push_back(b.mixer->new_state(m_.backend()));
  }

  // A batched decoding step (BlockStackModel::decode_step) in three parts: prepare_step() readies the RoPE tables
  // for one more position and says false when the frequencies change there (dynamic NTK, LongRoPE: the state must
  // be rebuilt, which append() does); the model then runs the step with state()/table(); commit_step() records it.
  bool prepare_step() {
    const std::int64_t new_len = length() + 1;
    std::vector<RopeFrequencies> freqs;
    for (std::size_t u = 0; u < tables_.size(); ++u) {
      const RopeUse& use = m_.rope_uses()[u];
      freqs.push_back(rope_frequencies(use.config, use.head_dim, new_len));
      if (tables_[u] && !(tables_[u]->freq == freqs.back())) return false;
    }
    for (std::size_t u = 0; u < tables_.size(); ++u)
      if (!tables_[u] || tables_[u]->positions < new_len) tables_[u] = m_.rope_tables(freqs[u], new_len);
    return true;
  }
  MixerState* state(std::size_t layer) const { return states_[layer].get(); }
  const RopeTables* table(int slot) const { return slot >= 0 ? tables_[static_cast<std::size_t>(slot)].get() : nullptr; }
  std::int64_t processed() const { return processed_; }
  void commit_step(std::int32_t token) {
    history_.push_back(token);
    ++processed_;
  }

 private:
  // Runs tokens at positions [processed_, processed_ + n) and writes outputs for rows >= first_output_row.
  void forward(std::span<const std::int32_t> tokens, std::int64_t first_output_row, const AppendOutput& out);

  const BlockStackModel& m_;
  std::vector<std::int32_t> history_;
  std::int64_t processed_ = 0;  // positions the mixer states have seen
  std::vector<std::unique_ptr<MixerState>> states_;
  std::vector<std::shared_ptr<const RopeTables>> tables_;  // one per RoPE use (the model's shared tables)
};

void BlockStackSequence::append(std::span<const std::int32_t> tokens, const AppendOutput& out) {
  const auto& s = m_.spec();
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= s.vocab_size)
      throw BadInput("token id " + std::to_string(tokens[i]) + " at position " + std::to_string(length() + i) +
                     " is outside the vocabulary [0, " + std::to_string(s.vocab_size) + ")");
  check_targets(out, tokens.size());
  if (tokens.empty()) {
    if (out.logits) out.logits->clear();
    if (out.hidden) out.hidden->clear();
    return;
  }
  const std::int64_t old_len = length();
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  const std::int64_t new_len = length();
  // RoPE for the sequence's current length. Dynamic NTK and LongRoPE change with the length; the reference
  // (re-running the whole sequence) then rotates every key with the new frequencies, so when they change the
  // state is rebuilt from the token history instead of mixing rotations.
  bool rope_changed = false;
  for (std::size_t u = 0; u < tables_.size(); ++u) {
    const RopeUse& use = m_.rope_uses()[u];
    const RopeFrequencies freq = rope_frequencies(use.config, use.head_dim, new_len);
    const bool changed = tables_[u] && !(tables_[u]->freq == freq);
    if (changed) rope_changed = true;
    if (!tables_[u] || changed || tables_[u]->positions < new_len) tables_[u] = m_.rope_tables(freq, new_len);
  }
  if (rope_changed && old_len > 0) {
    processed_ = 0;
    states_.clear();
    for (const auto& b : m_.blocks()) states_.push_back(b.mixer->new_state(m_.backend()));
    forward(history_, old_len, out);
  } else {
    forward(tokens, 0, out);
  }
}

void BlockStackSequence::forward(std::span<const std::int32_t> tokens, std::int64_t first_output_row,
                                 const AppendOutput& out) {
  Backend& b = m_.backend();
  const auto& s = m_.spec();
  const std::int64_t T = static_cast<std::int64_t>(tokens.size()), H = s.hidden_size;
  const std::int64_t pos0 = processed_;

  // The residual stream stays float32; the normed inputs and mixer/MLP outputs use the backend's activation type.
  Tensor x = b.alloc(DType::F32, {T, H}), h = b.alloc(b.activation_dtype(), {T, H}), o = b.alloc(b.activation_dtype(), {T, H});
  auto capture = [&](const Tensor& t) {
    if (!out.hidden) return;
    std::vector<float> all(static_cast<std::size_t>(T * H));
    b.download(t, all);
    out.hidden->emplace_back(all.begin() + first_output_row * H, all.end());
  };
  if (out.hidden) out.hidden->clear();

  m_.embed_tokens(tokens, x);
  const bool every_block = m_.hidden_after_every_block();
  if (!every_block) capture(x);
  m_.run_blocks(
      x, h, o,
      [&](std::size_t l, const Tensor& in, Tensor& mixed) {
        const int slot = m_.rope_slot()[l];
        m_.blocks()[l].mixer->forward(b, in, pos0, slot >= 0 ? tables_[static_cast<std::size_t>(slot)].get() : nullptr, *states_[l],
                                      mixed);
      },
      capture, false);
  if (every_block) capture(x);
  processed_ = pos0 + T;

  emit_outputs(b, OutputHead{m_.final_norm(), m_.options().norm, static_cast<float>(s.norm_eps), m_.lm_head(), m_.options().logit_softcap},
               x.slice_rows(first_output_row, T - first_output_row), out);
}

}  // namespace

BlockStackModel::BlockStackModel(ModelSpec spec, std::shared_ptr<Backend> backend, Tensor embed, Norm final_norm,
                                 Tensor lm_head, std::vector<Block> blocks, StackOptions options)
    : spec_(std::move(spec)),
      backend_(std::move(backend)),
      embed_(std::move(embed)),
      final_norm_(std::move(final_norm)),
      lm_head_(std::move(lm_head)),
      options_(options),
      blocks_(std::move(blocks)) {
  for (const auto& blk : blocks_) {
    const RopeUse* use = blk.mixer->rope();
    int slot = -1;
    if (use) {
      for (std::size_t u = 0; u < rope_uses_.size(); ++u)
        if (rope_uses_[u].config == use->config && rope_uses_[u].head_dim == use->head_dim) slot = static_cast<int>(u);
      if (slot < 0) {
        rope_uses_.push_back(*use);
        slot = static_cast<int>(rope_uses_.size()) - 1;
      }
    }
    rope_slot_.push_back(slot);
  }
}

std::unique_ptr<Sequence> BlockStackModel::new_sequence() const { return std::make_unique<BlockStackSequence>(*this); }

void BlockStackModel::score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                                  std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const {
  const std::int64_t N = static_cast<std::int64_t>(tokens.size());
  if (batch < 1 || N % batch != 0 || targets.size() != tokens.size() || N == 0 || blocks_.empty()) {
    Model::score_batch(tokens, batch, targets, logprobs, greedy);  // validates, and scores one sequence at a time
    return;
  }
  const std::int64_t T = N / batch, H = spec_.hidden_size;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= spec_.vocab_size)
      throw BadInput("token id " + std::to_string(tokens[i]) + " at position " + std::to_string(static_cast<std::int64_t>(i) % T) +
                     " of sequence " + std::to_string(static_cast<std::int64_t>(i) / T) + " is outside the vocabulary [0, " +
                     std::to_string(spec_.vocab_size) + ")");
  Backend& b = *backend_;
  std::vector<std::shared_ptr<const RopeTables>> ropes;
  for (const RopeUse& use : rope_uses_) ropes.push_back(rope_tables(rope_frequencies(use.config, use.head_dim, T), T));
  Tensor x = b.alloc(DType::F32, {N, H}), h = b.alloc(b.activation_dtype(), {N, H}), o = b.alloc(b.activation_dtype(), {N, H});
  embed_tokens(tokens, x);
  run_blocks(
      x, h, o,
      [&](std::size_t l, const Tensor& in, Tensor& mixed) {
        const int slot = rope_slot_[l];
        blocks_[l].mixer->forward_batch(b, in, batch, slot >= 0 ? ropes[static_cast<std::size_t>(slot)].get() : nullptr, mixed);
      },
      [](const Tensor&) {}, true);
  logprobs.assign(tokens.size(), 0.0);
  greedy.assign(tokens.size(), 0);
  b.token_logprobs(h, lm_head_, targets, logprobs, greedy, options_.logit_softcap);
}

bool BlockStackModel::pads_exactly(std::int64_t length, std::int64_t padded) const {
  // Every mixer is causal (attention masks later positions, recurrences and convolutions run forward), so only
  // the RoPE frequencies can see the padding: dynamic NTK and LongRoPE choose them from the sequence's length.
  for (const RopeUse& use : rope_uses_)
    if (!(rope_frequencies(use.config, use.head_dim, length) == rope_frequencies(use.config, use.head_dim, padded)))
      return false;
  return length <= padded;
}

void BlockStackModel::decode_step(std::span<Sequence* const> seqs, std::span<const std::int32_t> tokens,
                                  std::span<std::int32_t> next) const {
  if (seqs.size() != tokens.size() || next.size() != tokens.size())
    throw InternalError("decode_step: one token and one output per sequence");
  std::vector<BlockStackSequence*> batch;
  std::vector<std::size_t> at;  // batch row -> request index
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    auto* s = dynamic_cast<BlockStackSequence*>(seqs[i]);
    if (!s) throw InternalError("decode_step: a sequence of another model");
    if (tokens[i] < 0 || tokens[i] >= spec_.vocab_size)
      throw BadInput("token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " + std::to_string(spec_.vocab_size) + ")");
    if (s->prepare_step()) {
      batch.push_back(s);
      at.push_back(i);
      ids.push_back(tokens[i]);
    } else {  // the RoPE frequencies change at this length: this sequence rebuilds its state on its own
      AppendOutput out;
      out.next_token = &next[i];
      s->append(tokens.subspan(i, 1), out);
    }
  }
  if (batch.empty()) return;
  Backend& b = *backend_;
  const std::int64_t n = static_cast<std::int64_t>(batch.size()), H = spec_.hidden_size;
  std::vector<std::int64_t> pos;
  std::vector<MixerState*> states(batch.size());
  std::vector<const RopeTables*> ropes(batch.size());
  for (auto* s : batch) pos.push_back(s->processed());
  Tensor x = b.alloc(DType::F32, {n, H}), h = b.alloc(b.activation_dtype(), {n, H}), o = b.alloc(b.activation_dtype(), {n, H});
  embed_tokens(ids, x);
  run_blocks(
      x, h, o,
      [&](std::size_t l, const Tensor& in, Tensor& mixed) {
        for (std::size_t k = 0; k < batch.size(); ++k) {
          states[k] = batch[k]->state(l);
          ropes[k] = batch[k]->table(rope_slot_[l]);
        }
        blocks_[l].mixer->forward_decode(b, in, pos, ropes, states, mixed);
      },
      [](const Tensor&) {}, true);
  std::vector<std::int32_t> chosen(batch.size());
  b.token_argmax(h, lm_head_, options_.logit_softcap, chosen);
  for (std::size_t k = 0; k < batch.size(); ++k) {
    batch[k]->commit_step(ids[k]);
    next[at[k]] = chosen[k];
  }
}

void BlockStackModel::embed_tokens(std::span<const std::int32_t> ids, Tensor& x) const {
  backend_->embed(embed_, ids, x);
  if (options_.embed_scale > 0) backend_->scale(x, options_.embed_scale);
}

template <typename Mix, typename AfterBlock>
void BlockStackModel::run_blocks(Tensor& x, Tensor& h, Tensor& o, Mix&& mix, AfterBlock&& after_block, bool final_norm_into_h) const {
  Backend& b = *backend_;
  const NormKind kind = options_.norm;
  const float eps = static_cast<float>(spec_.norm_eps);
  const std::int64_t rows = x.rows(), H = x.cols();
  Tensor post;  // a post-norm's output (sandwich / post-norm layouts), allocated when first needed
  auto post_norm = [&](const Norm& n, Tensor& t) -> Tensor& {
    if (!n.present()) return t;
    if (post.shape.empty()) post = b.alloc(b.activation_dtype(), {rows, H});
    apply_norm(b, kind, n, eps, t, post);
    return post;
  };
  if (blocks_.empty()) {
    if (final_norm_into_h) apply_norm(b, kind, final_norm_, eps, x, h);
    return;
  }
  apply_norm(b, kind, blocks_[0].mixer_norm, eps, x, h);
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const Block& blk = blocks_[l];
    mix(l, h, o);
    const Tensor* residual = &o;  // what is added to x before the next block's norm
    if (blk.parallel) {
      // The MLP reads the block's input: x has not changed yet, so norm it now, then add both outputs.
      Tensor h2 = b.alloc(b.activation_dtype(), {rows, H}), o2 = b.alloc(b.activation_dtype(), {rows, H});
      apply_norm(b, kind, blk.mlp_norm, eps, x, h2);
      feed_forward(b, blk.mlp, h2, o2);
      b.add(x, post_norm(blk.mixer_post_norm, o));
      o = o2;
      residual = &post_norm(blk.mlp_post_norm, o);
    } else {
      residual = &post_norm(blk.mixer_post_norm, o);
      if (blk.has_mlp) {
        add_and_norm(b, kind, x, *residual, blk.mlp_norm, eps, h);  // the mixer's residual add, the MLP's norm
        feed_forward(b, blk.mlp, h, o);
        residual = &post_norm(blk.mlp_post_norm, o);
      }
    }
    if (l + 1 < blocks_.size()) {
      add_and_norm(b, kind, x, *residual, blocks_[l + 1].mixer_norm, eps, h);  // this block's add, the next block's norm
      after_block(x);
    } else if (final_norm_into_h) {
      add_and_norm(b, kind, x, *residual, final_norm_, eps, h);
    } else {
      b.add(x, *residual);
    }
  }
}

}  // namespace lmscope
