// Running a model: load a checkpoint onto a backend, then feed token sequences. A Sequence holds one
// sequence's state (KV cache, recurrent state), so scoring a whole text and decoding token by token are the same
// call: append() from an empty state returns the logits of every position.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lmscope/checkpoint.h"
#include "lmscope/model_spec.h"

namespace lmscope {

// Logits left where the model computed them (device memory on a GPU): what AppendOutput::kept_logits receives, for
// compare_logits_blocks. Releasing the handle frees the memory; it must not outlive its model.
class LogitsBlock {
 public:
  virtual ~LogitsBlock() = default;
  virtual std::int64_t rows() const = 0;
  virtual std::int64_t vocab() const = 0;
};

// Two next-token distributions at one position, p the base's softmax and q the model's: KL(p ‖ q) in nats, whether
// both argmaxes agree (first index on ties, as torch.argmax), and −log q / −log p of the target (0 without one).
struct LogitsComparison {
  double kl = 0;
  double nll = 0, base_nll = 0;
  bool same_top = false;
};

struct LoadOptions {
  std::string backend = "cpu";
  // Run-time RoPE override "TYPE[:key=value,...]" (see apply_rope_override); empty keeps the checkpoint's.
  std::string rope_override;
  // Compute type: "" for the backend's default (cpu: fp32; cuda: bf16 weights and activations, fp32 accumulation),
  // "fp32" (cuda's verification mode) or "bf16" (cuda only).
  std::string dtype;
  // Gemma 2's attention-score soft-cap, which the model defines and transformers' eager attention applies; false
  // reproduces transformers' default SDPA attention, which ignores it (and so do references made with it).
  bool attention_softcap = true;
  // Weights are scanned for NaN and infinity at load and refused naming the tensor; true skips the scan, for
  // looking at a broken checkpoint on purpose (the outputs will not be finite).
  bool allow_nonfinite = false;
};

// What append() writes back. Everything is float32 on the host.
struct AppendOutput {
  // [rows, vocab]: one row per appended token, or only the last when last_only.
  std::vector<float>* logits = nullptr;
  bool last_only = false;
  // Hidden states as transformers reports them for the appended tokens: [0] the embeddings, [i] the output of
  // layer i-1 for 0 < i < L, [L] the last layer's output after the final norm; each [n, hidden].
  std::vector<std::vector<float>>* hidden = nullptr;
  // Scoring without materialising logits: targets[i] is the token expected after appended token i (< 0: not
  // scored). Fills target_logprobs[i] = log P(targets[i] | everything up to token i) and target_is_greedy[i] = 1
  // when targets[i] is the argmax (the first index on ties, as torch.argmax). The LM head runs in vocabulary
  // chunks with an online log-sum-exp, so a [tokens x vocab] matrix never exists.
  std::span<const std::int32_t> targets = {};
  std::vector<double>* target_logprobs = nullptr;
  std::vector<std::uint8_t>* target_is_greedy = nullptr;
  // Greedy decoding: receives the argmax token after the last appended one, computed on the device (only the id
  // comes back, not a logits row).
  std::int32_t* next_token = nullptr;
  // The logits of every appended token [rows, vocab] float32, kept on the backend (no copy to the host).
  std::shared_ptr<LogitsBlock>* kept_logits = nullptr;
};

class Sequence {
 public:
  virtual ~Sequence() = default;
  // Feeds tokens after those already in the sequence. BadInput for ids outside the vocabulary.
  virtual void append(std::span<const std::int32_t> tokens, const AppendOutput& out) = 0;
  virtual std::int64_t length() const = 0;
  virtual void reset() = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelSpec& spec() const = 0;
  virtual std::string backend_name() const = 0;
  virtual std::unique_ptr<Sequence> new_sequence() const = 0;

  // Batch scoring: `batch` sequences of equal length laid out one after another in `tokens`, each from an empty
  // state; targets, logprobs and greedy are laid out the same way and mean what AppendOutput's do. Families that
  // can run several sequences through one pass do (every matrix product sees batch × length rows); the default
  // scores one Sequence after another. Not safe to call from several threads on one model.
  virtual void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                           std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const;
  // Whether a sequence of `length` tokens, right-padded to `padded` with any tokens, gets the same scores at its
  // own positions as alone (up to the rounding of a different batch shape): true for causal families whose
  // positions do not depend on the sequence's length. Lets score_windows batch windows of different lengths. The
  // default says false (no padding).
  virtual bool pads_exactly(std::int64_t length, std::int64_t padded) const { return length == padded; }
  // One step of batched greedy decoding: appends tokens[i] to seqs[i] (sequences of this model, each a different
  // one) and writes the greedy next token of each to next[i]. Families that can run the step as one pass do (every
  // matrix product sees one row per sequence); the default appends to one sequence after another.
  virtual void decode_step(std::span<Sequence* const> seqs, std::span<const std::int32_t> tokens, std::span<std::int32_t> next) const;
  // Peak device memory in bytes (weights included) since the last reset; -1 where the backend does not track it.
  virtual std::int64_t peak_memory_bytes() const { return -1; }
  virtual void reset_peak_memory() const {}
};

// BadInput naming the tensor when a weight the family uses is NaN or infinite (unless options.allow_nonfinite).
std::unique_ptr<Model> load_model(const Checkpoint& checkpoint, const LoadOptions& options = {});

// Logits of every position of `tokens`, one forward pass from an empty state: [tokens.size(), vocab].
std::vector<float> compute_logits(const Model& model, std::span<const std::int32_t> tokens,
                                  std::vector<std::vector<float>>* hidden = nullptr);

// One sequence from an empty state, fused scoring against explicit targets (AppendOutput's meaning: targets[i]
// follows tokens[i], -1 is not scored): logprobs and is_greedy get one entry per token.
void score_sequence(const Model& model, std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets,
                    std::vector<double>& logprobs, std::vector<std::uint8_t>& is_greedy);

// log P(tokens[i+1] | tokens[0..i]) for i in [0, T-1): one forward pass from an empty state, fused scoring.
// When is_greedy is given it receives whether each next token is the argmax.
std::vector<double> next_token_logprobs(const Model& model, std::span<const std::int32_t> tokens,
                                        std::vector<std::uint8_t>* is_greedy = nullptr);

// next_token_logprobs for several sequences of one length (>= 2), scored in batched passes of `micro_batch`
// sequences (0: all at once): result[s][i] = log P(seqs[s][i+1] | seqs[s][0..i]). When the device runs out of
// memory, the micro-batch is halved and the failed part retried (down to one sequence, then OutOfMemory).
std::vector<std::vector<double>> next_token_logprobs_batch(const Model& model, std::span<const std::vector<std::int32_t>> seqs,
                                                           std::int64_t micro_batch = 0,
                                                           std::vector<std::vector<std::uint8_t>>* is_greedy = nullptr);

// Greedy decoding through the model's cache: the `max_new` tokens that follow `prompt` (fewer when stop_at_eos
// and an EOS id of the spec is produced; the EOS is included).
std::vector<std::int32_t> generate_greedy(const Model& model, std::span<const std::int32_t> prompt, std::int64_t max_new,
                                          bool stop_at_eos = false);

// The batched greedy decoder. Each prompt is prefilled on its own, in pieces of at most prefill_chunk tokens (the
// activations of a piece bound the memory a long prompt takes); then every step feeds the last token of all
// unfinished sequences together (Model::decode_step: one pass, argmax on the device). A sequence finishes after
// max_new tokens, after a token of stop_ids (kept), or when `stop` says so after a step (e.g. a stop string in
// its decoded text); finished sequences leave the batch. after_step runs once per step with the tokens decoded
// in it (progress, cancellation: an exception it throws ends the call).
struct GreedyRequest {
  std::span<const std::int32_t> prompt;
  std::int64_t max_new = 0;
};
struct GreedyOptions {
  std::vector<std::int32_t> stop_ids;
  std::function<bool(std::size_t request, std::span<const std::int32_t> generated)> stop;
  std::function<void(std::int64_t tokens)> after_step;
  std::int64_t prefill_chunk = 4096;
  std::int64_t max_batch = 0;  // sequences decoded together; 0: all requests at once
};
std::vector<std::vector<std::int32_t>> generate_greedy_batch(const Model& model, std::span<const GreedyRequest> requests,
                                                             const GreedyOptions& options = {});

// Row r of two logits blocks of equal shape (kept by AppendOutput::kept_logits of two models, or of one) compared,
// with targets[r] (< 0: no target). On the GPU when both blocks are there: only the results cross to the host.
// BadInput when the shapes differ (two vocabularies).
std::vector<LogitsComparison> compare_logits_blocks(const LogitsBlock& base, const LogitsBlock& model,
                                                    std::span<const std::int32_t> targets);

// Index of the largest value; the first one on ties (as torch.argmax).
std::int64_t argmax(std::span<const float> row);

}  // namespace lmscope
