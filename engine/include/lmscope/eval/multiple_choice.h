// Zero-shot multiple-choice tasks (and LAMBADA) as lm-evaluation-harness 0.4.9.1 builds their requests: one
// record of the Hugging Face dataset's JSON layout becomes a context and the continuations to score
// (../shared/docs/eval-spec.md, "Multiple choice"; the facts below were checked against lm-eval's v0.4.9.1 tag:
// lm_eval/tasks/<task>/*.yaml and their utils, lm_eval/api/task.py ConfigurableTask, lm_eval/api/model.py
// TemplateLM.loglikelihood/_encode_pair, lm_eval/models/huggingface.py).
//
// How lm-eval 0.4.9.1 builds a zero-shot multiple-choice item (no description, no chat template):
//   context        = doc_to_text(doc)
//   continuation_i = target_delimiter + doc_to_choice(doc)[i]      (target_delimiter " " for every task here)
//   gold           = doc_to_target(doc) (an index, or a string looked up in the choices)
// except for "partial evaluation" (winogrande), where doc_to_text returns an int: then that int is the gold index,
// the CHOICES are the contexts (context_i = doc_to_choice(doc)[i]) and every request shares the continuation
// target_delimiter + doc_to_target(doc).
//
// acc_norm (ConfigurableTask.process_results): argmax_i loglik_i / len(doc_to_choice(doc)[i]), where len() is
// Python's len of a str: the number of Unicode CODE POINTS of the choice, not its UTF-8 bytes, and without the
// target delimiter (but with any space the choice itself starts with, as copa's do). eval-spec.md says "UTF-8
// bytes": it differs from the code and we follow the code. For winogrande the "choices" are the partial contexts,
// so their lengths are those of the contexts (lm-eval does not report acc_norm there anyway).
//
// The tasks (target delimiter " " everywhere: lm-eval's default, no yaml here sets another):
//   task           context                                           choices (continuation = " " + choice)       gold                      acc_norm
//   hellaswag      preprocess(activity_label + ": " + ctx_a + " " +  preprocess(endings[i])                       int(label)                yes
//                  ctx_b.capitalize())
//   piqa           "Question: {goal}\nAnswer:"                        sol1, sol2                                   label                     yes
//   arc_easy/      "Question: {question}\nAnswer:"                    choices.text                                 choices.label.index(      yes
//   arc_challenge                                                                                                  answerKey)
//   winogrande     sentence[:i] + option1 / option2 (i = index of    shared: sentence[i+1:].strip()               answer - 1 ("1"/"2")      no
//                  the first "_"): one context per option
//   boolq          "{passage}\nQuestion: {question}?\nAnswer:"         "no", "yes"                                  label                     no
//   copa           premise.strip()[:-1] + " because" (cause) /       " " + c[0].lower() + c[1:] for choice1/2,   label                     no
//                  " therefore" (effect)                             so the continuation starts with TWO spaces
//   sciq           "{support.lstrip()}\nQuestion: {question}\nAnswer:" distractor1..3, correct_answer              3                         yes
//   social_iqa     "Q: {context} {question}\nA:"                      answerA, answerB, answerC                    int(label) - 1            no
//   lambada_openai context = text up to its last ' ', continuation = " " + the rest (output type loglikelihood)
//
// Where ../shared/docs/eval-spec.md differs from lm-eval 0.4.9.1's code (we follow the code):
//  - acc_norm length: the spec says UTF-8 bytes; the code divides by len(choice) on a Python str = code points.
//  - _encode_pair order: the spec says tokenise the whole string "then" move the context's trailing whitespace; the
//    code moves the whitespace first and then encodes context + continuation and the context.
//  - Empty context: the spec says an empty context gets the prefix token; the code does so only for context == ""
//    exactly, and then encodes the continuation alone (no whitespace moved); a whitespace-only context goes through
//    _encode_pair and gets no tokens at all (see encode_request for what we do).
//  - Truncation: the spec says the context is left-truncated to fit L; the code left-truncates context+continuation
//    together ((ctx + cont)[-(L+1):][:-1]), which cuts into the continuation when it alone exceeds L+1 tokens.
//  - sciq: the spec's context is "{support}\n..."; the yaml uses support.lstrip().
//  - hellaswag: "removes ... double spaces" is one left-to-right replace("  ", " "), not a collapse (four spaces
//    become two); capitalize() also lower-cases the rest of ctx_b; preprocess strips BEFORE removing tags, so a
//    leading "[step] " tag leaves a leading space on the ending.
//  - copa: "premise without its final period" is premise.strip()[:-1], the last character whatever it is; with the
//    default delimiter " " and choices that start with " " the continuation is "  " + choice (two spaces).
//  - winogrande: the continuation is " " + the text after the blank stripped, not the remainder as it is.
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
  // The length lm-eval divides a choice's loglikelihood by for acc_norm: len() of the choice string in Python, i.e.
  // Unicode code points (see above), of doc_to_choice's entry (no target delimiter).
  std::vector<double> choice_lengths;
  int gold = 0;
  // Whether the task's yaml lists acc_norm in metric_list (hellaswag, piqa, arc_easy, arc_challenge, sciq); false
  // where lm-eval reports acc only (winogrande, boolq, copa, social_iqa).
  bool has_acc_norm = true;
};

// The tasks make_multiple_choice_item knows: hellaswag, piqa, arc_easy, arc_challenge, winogrande, boolq, copa,
// sciq, social_iqa.
const std::vector<std::string>& multiple_choice_tasks();
bool is_multiple_choice_task(std::string_view task);

// The item for one dataset record of `task`. BadInput naming `where` (e.g. "piqa.jsonl:17"), the missing or
// malformed field and what was expected. Labels are accepted as JSON integers or as strings of decimal digits
// (the datasets differ: hellaswag's `label`, winogrande's `answer` and social_iqa's `label` are strings, piqa's,
// boolq's and copa's are integers; boolq also accepts a JSON boolean). A label outside the choices is BadInput
// (lm-eval 0.4.9.1 only warns and scores the item as wrong). Differences on purpose: lm-eval returns piqa's and
// boolq's `label` as it is, so a STRING label there would be looked up among the choice texts and miss (gold
// -100); copa's doc_to_target tests label == 0, so a string "0" would pick choice2. We read both as numbers.
// Surrounding whitespace in a string label is ignored, as Python's int() does (old social_i_qa copies: "1\n").
MultipleChoiceItem make_multiple_choice_item(std::string_view task, const nlohmann::json& record,
                                             std::string_view where);

// lambada_openai (output type loglikelihood): context = "' '.join(text.split(' ')[:-1])", continuation =
// " " + text.split(' ')[-1]. Splitting is on the single character ' ' (not on whitespace), so a text without a
// space gives an empty context (which lm-eval scores after the prefix token, see encode_request).
ChoiceRequest make_lambada_request(const nlohmann::json& record, std::string_view where);

// HellaSwag's preprocess (lm_eval/tasks/hellaswag/utils.py): strip() (Python whitespace), replace " [title]" with
// ". ", remove every "[...]" (non-greedy, not across a newline: Python's re "\[.*?\]"), then replace "  " with " "
// once, left to right (so a run of four spaces becomes two).
std::string hellaswag_preprocess(std::string_view text);

// lm-eval's _encode_pair: trailing whitespace of the context (Python's rstrip(): Unicode whitespace) moves to the
// continuation, then whole = encode(context + continuation), ctx = encode(context), both WITHOUT special tokens
// (lm-eval 0.4.9.1's HFLM encodes with add_special_tokens = add_bos_token, False by default; it forces it on only
// for Gemma), and the continuation's tokens are whole[len(ctx):]. Returns {context tokens, continuation tokens}.
// The split takes no care of token boundaries across the join: the continuation may get tokens that cover some of
// the context's text, or none at all (Llama 2: "The cat sat on the ma" + "t" -> the whole has as many tokens as
// the context, "▁ma" becoming "▁mat"); lm-eval scores an empty continuation as loglik 0, greedy true.
// An empty context (or one of whitespace only) gives empty context tokens: lm-eval never calls _encode_pair for
// context == "" (see encode_request); the caller must not score with an empty context.
// `allow_special`: whether special-token text inside the strings becomes special ids (Hugging Face tokenizers,
// which lm-eval calls, do that by default; our default keeps them plain text, which matters only if a dataset
// contains such text).
std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>> encode_pair(const Tokenizer& tokenizer,
                                                                             std::string_view context,
                                                                             std::string_view continuation,
                                                                             bool allow_special = false);

// The token lm-eval puts as context when the context string is empty (HFLM.prefix_token_id): BOS, else EOS.
// BadInput when the tokenizer has neither.
std::int32_t loglikelihood_prefix_token(const Tokenizer& tokenizer);

// The tokens lm-eval 0.4.9.1 scores for one request (TemplateLM.loglikelihood): when context == "" exactly,
// context = {prefix token} and continuation = encode(continuation) as it is (no whitespace moved); otherwise
// encode_pair. Difference: a context of whitespace only is not "" to lm-eval, so _encode_pair leaves it no
// tokens and lm-eval's scoring then mis-aligns (its input is shorter than the continuation); we use the prefix
// token there too, with the whitespace moved onto the continuation as _encode_pair does.
// Left-truncation to the model's length is the caller's: lm-eval feeds (context + continuation)[-(L+1):][:-1].
std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>> encode_request(const Tokenizer& tokenizer,
                                                                                std::string_view context,
                                                                                std::string_view continuation,
                                                                                bool allow_special = false);

// Python's len() of a UTF-8 string: its number of code points.
std::size_t python_len(std::string_view utf8);

}  // namespace lmscope::eval
