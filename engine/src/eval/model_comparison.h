// Two models' next-token distributions compared token by token: what the `compare` task reports (docs/evaluation.md).
// At each position, with p the base model's softmax and q the model's:
//   KL(p ‖ q) = Σ_v p_v (log p_v − log q_v)     (nats; llama.cpp's perplexity --kl-divergence direction)
//   same_top  = argmax p == argmax q           (first index on ties, as torch.argmax)
//   nll, base_nll = −log q_target, −log p_target
// The two models read the same tokens in lockstep, a block of positions at a time; each block's logits stay on
// the backend (device memory on a GPU, where the comparison runs too), so only two [rows × vocab] blocks ever
// exist, never a [tokens × vocab] matrix, and only four numbers per position reach the host.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lmscope/eval/task.h"
#include "lmscope/model.h"

namespace lmscope::eval {

// Positions per block for a vocabulary of `vocab`: about 32 MiB of float32 logits per model on the CPU, 1 GiB on a
// GPU (a 2048-token window of a 128K vocabulary in one pass, as a reference script would run it).
std::int64_t comparison_block_rows(std::int64_t vocab, const std::string& backend);

// Both models read `input` from an empty state; result[i] compares their distributions after input[i], with
// targets[i] (< 0: no target, nll 0), `block_rows` positions at a time (0: comparison_block_rows). BadInput when
// the two vocabularies (logit widths) differ (compare_logits_blocks). Polls env's cancel flag and reports tokens read (both models') after
// each block.
std::vector<LogitsComparison> compare_window(const Model& model, const Model& base, std::span<const std::int32_t> input,
                                            std::span<const std::int32_t> targets, const TaskEnv& env,
                                            std::int64_t block_rows = 0);

}  // namespace lmscope::eval
