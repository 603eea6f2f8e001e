#include "eval/answer_generation.h"

#include <algorithm>

#include "lmscope/json_input.h"

namespace lmscope::eval {

std::size_t first_stop(std::string_view text, std::span<const std::string> stops) {
  std::size_t at = std::string_view::npos;
  for (const auto& s : stops)
    if (!s.empty()) at = std::min(at, text.find(s));
  return at;
}

std::vector<Answer> generate_answers(const Model& model, const Tokenizer& tokenizer, std::span<const AnswerRequest> requests,
                                     const TaskEnv& env) {
  env.check_cancel();
  std::vector<GreedyRequest> greedy;
  greedy.reserve(requests.size());
  for (const auto& r : requests) greedy.push_back({r.prompt, r.max_new});
  GreedyOptions o;
  if (auto e = tokenizer.eos_id()) o.stop_ids.push_back(*e);
  for (auto e : model.spec().eos_token_ids)
    if (e >= 0 && e <= INT32_MAX) o.stop_ids.push_back(static_cast<std::int32_t>(e));
  const bool any_stop_strings = std::any_of(requests.begin(), requests.end(), [](const AnswerRequest& r) {
    return std::any_of(r.stop_strings.begin(), r.stop_strings.end(), [](const std::string& s) { return !s.empty(); });
  });
  // Decoding the whole continuation each step is quadratic in its length, but continuations are short next to
  // the prompts, and it matches stop strings that span tokens exactly as the decoded text shows them.
  if (any_stop_strings)
    o.stop = [&](std::size_t i, std::span<const std::int32_t> generated) {
      return first_stop(tokenizer.decode(generated), requests[i].stop_strings) != std::string::npos;
    };
  o.after_step = [&](std::int64_t tokens) {
    env.tokens_done(tokens);
    env.check_cancel();
  };
  o.max_batch = std::max<std::int64_t>(env.batch_size, 1);
  const auto ids = generate_greedy_batch(model, greedy, o);

  std::vector<Answer> out(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Answer& a = out[i];
    a.ids = ids[i];
    std::span<const std::int32_t> text_ids(a.ids);
    const bool eos = !a.ids.empty() && std::find(o.stop_ids.begin(), o.stop_ids.end(), a.ids.back()) != o.stop_ids.end();
    if (eos) text_ids = text_ids.first(text_ids.size() - 1);
    a.text = valid_utf8(tokenizer.decode(text_ids));
    const auto cut = first_stop(a.text, requests[i].stop_strings);
    if (cut != std::string::npos) {
      a.text.resize(cut);
      a.stopped_by = "stop_string";
    } else {
      a.stopped_by = eos ? "eos" : "max_new_tokens";
    }
  }
  return out;
}

}  // namespace lmscope::eval
