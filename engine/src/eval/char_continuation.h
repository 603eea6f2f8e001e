// Greedy continuation of a byte-level model, counted in characters. This is the one place the charlevel task
// generates: today it decodes one prompt after another through the engine's Sequence API; a batched decoder can
// replace the loop here without the task changing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

struct CharContinuation {
  std::string bytes;          // what the model wrote (not necessarily valid UTF-8)
  double prompt_seconds = 0;  // the prompt's forward pass and the first byte's choice
  double decode_seconds = 0;  // every later step: one byte in, logits of the next out
  std::int64_t steps = 0;     // bytes written
};

// For each prompt (its bytes are the token ids), the argmax byte after each step until n_chars characters are
// finished (eval/utf8_chars.h: a character the next byte could still complete is not finished). n_chars characters
// take at most 4 · n_chars bytes, so it always stops. A generated id past 255 is written as the byte 0xFF. Polls env's cancel flag and reports tokens read.
std::vector<CharContinuation> continue_chars(const Model& model, std::span<const std::string> prompts, std::int64_t n_chars,
                                             const TaskEnv& env);

}  // namespace lmscope::eval
