#include "eval/char_continuation.h"

#include <chrono>

#include "eval/utf8_chars.h"
#include "lmscope/error.h"

namespace lmscope::eval {

std::vector<CharContinuation> continue_chars(const Model& model, std::span<const std::string> prompts, std::int64_t n_chars,
                                             const TaskEnv& env) {
  using Clock = std::chrono::steady_clock;
  if (n_chars < 1) throw BadInput("continuation: the number of characters must be >= 1");
  std::vector<CharContinuation> out(prompts.size());
  std::vector<float> logits;
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    env.check_cancel();
    if (prompts[i].empty()) throw BadInput("continuation: a prompt needs at least one byte");
    ids.assign(prompts[i].begin(), prompts[i].end());
    for (auto& t : ids) t &= 0xFF;  // char may be signed
    auto& c = out[i];
    const auto t0 = Clock::now();
    auto seq = model.new_sequence();
    seq->append(ids, AppendOutput{.logits = &logits, .last_only = true});
    auto next = static_cast<std::int32_t>(argmax(logits));
    const auto t1 = Clock::now();
    for (;;) {
      // An id past 255 is no byte (a model may have special tokens there): 0xFF, which UTF-8 text never holds,
      // stands for it in the text, and the model reads its own token back.
      c.bytes.push_back(static_cast<char>(next < 256 ? next : 0xFF));
      ++c.steps;
      if (finished_chars(c.bytes) >= static_cast<std::size_t>(n_chars)) break;
      seq->append(std::span<const std::int32_t>(&next, 1), AppendOutput{.logits = &logits, .last_only = true});
      next = static_cast<std::int32_t>(argmax(logits));
    }
    c.prompt_seconds = std::chrono::duration<double>(t1 - t0).count();
    c.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    env.tokens_done(static_cast<std::int64_t>(ids.size()) + c.steps - 1);
  }
  return out;
}

}  // namespace lmscope::eval
