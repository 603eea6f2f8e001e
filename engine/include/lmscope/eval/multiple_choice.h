// Zero-shot multiple-choice tasks (and LAMBADA) as lm-evaluation-harness 0.4.9.1 builds their requests: one
// record of the Hugging Face dataset's JSON layout becomes a context and the continuations to score
// (../shared/docs/eval-spec.md, "Multiple choice").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/tokenizer.h"

namespace lmscope::eval {

// One loglikelihood request: score `continuation` after `context`.
struct ChoiceRequest {
  std::string context;
  std::string continuation;  // the target delimiter already prepended where the task uses one
};

struct MultipleChoiceItem {
  std::vector<ChoiceRequest> requests;  // one per choice, in the task's choice order
  // The length lm-eval divides a choice's loglikelihood by for acc_norm (as lm-eval 0.4.9.1 counts it).
  std::vector<double> choice_lengths;
  int gold = 0;
  bool has_acc_norm = true;  // false where lm-eval reports acc only (winogrande, boolq, copa, ... per their yaml)
};

// The tasks make_multiple_choice_item knows: hellaswag, piqa, arc_easy, arc_challenge, winogrande, boolq, copa,
// sciq, social_iqa.
const std::vector<std::string>& multiple_choice_tasks();
bool is_multiple_choice_task(std::string_view task);

// The item for one dataset record of `task`. BadInput naming `where` (e.g. "piqa.jsonl:17"), the missing or
// malformed field and what was expected.
MultipleChoiceItem make_multiple_choice_item(std::string_view task, const nlohmann::json& record,
                                             std::string_view where);

// lambada_openai: context = text up to its last space, continuation = " " + last word.
ChoiceRequest make_lambada_request(const nlohmann::json& record, std::string_view where);

// lm-eval's _encode_pair: trailing whitespace of the context moves to the continuation, then
// whole = encode(context + continuation), ctx = encode(context) (no special tokens), and the continuation's
// tokens are whole[len(ctx):]. Returns {context tokens, continuation tokens}.
std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>> encode_pair(const Tokenizer& tokenizer,
                                                                             std::string_view context,
                                                                             std::string_view continuation);

}  // namespace lmscope::eval
