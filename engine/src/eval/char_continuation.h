// Greedy continuation of a byte-level model, counted in characters: the one place the charlevel task generates.
// Prompts go through the engine's batched greedy decoder (generate_greedy_batch) in groups of `batch`, so the
// continuation's cost can be measured one prompt at a time and batched with the same code.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

struct CharContinuations {
  std::vector<std::string> bytes;  // per prompt, what the model wrote (not necessarily valid UTF-8)
  double prefill_seconds = 0;      // every prompt's forward pass, which also chooses its first byte
  double decode_seconds = 0;       // the decoding steps after that (one pass feeds every unfinished sequence)
  std::int64_t decode_passes = 0;  // those steps
  std::int64_t bytes_written = 0;  // all prompts together
};

// For each prompt (its bytes are the token ids), the argmax byte after each step until n_chars characters are
// finished (eval/utf8_chars.h: a character the next byte could still complete is not finished). n_chars characters
// take at most 4 · n_chars bytes, so it always stops. A generated id past 255 is written as the byte 0xFF (which
// UTF-8 text never holds) and the model reads its own token back. `batch` prompts decode together. Polls env's
// cancel flag and reports tokens read.
CharContinuations continue_chars(const Model& model, std::span<const std::string> prompts, std::int64_t n_chars,
                                 std::int64_t batch, const TaskEnv& env);

}  // namespace lmscope::eval
