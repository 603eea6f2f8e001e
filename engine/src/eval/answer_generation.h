// Answers the model writes: prompts decoded greedily by the batched decoder (generate_greedy_batch), each stopped
// by EOS, a stop string in its decoded text or its token budget. Shared by passkey, RULER and the recall task.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

struct AnswerRequest {
  std::vector<std::int32_t> prompt;
  std::int64_t max_new = 32;
  // Decoding stops once the decoded continuation contains one of these; the text is cut before the first
  // occurrence (lm-eval's `until`).
  std::vector<std::string> stop_strings;
};

struct Answer {
  std::vector<std::int32_t> ids;  // what was generated, a final EOS or stop-string token included
  std::string text;               // decoded (valid UTF-8), cut before the first stop string, EOS not included
  std::string stopped_by;         // "eos", "stop_string" or "max_new_tokens"
};

// env.batch_size sequences are decoded together (their prompts prefilled one by one first); env.cancel is polled
// and env.on_tokens told after every step. Answers in request order. EOS is the tokenizer's and every id of the
// model's eos_token_id.
std::vector<Answer> generate_answers(const Model& model, const Tokenizer& tokenizer, std::span<const AnswerRequest> requests,
                                     const TaskEnv& env);

// Where the first of `stops` begins in text (npos when none occurs).
std::size_t first_stop(std::string_view text, std::span<const std::string> stops);

}  // namespace lmscope::eval
