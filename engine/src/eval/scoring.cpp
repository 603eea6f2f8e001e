#include "eval/scoring.h"

#include <cmath>

#include "lmscope/error.h"

namespace lmscope::eval {

void TaskEnv::tokens_done(std::int64_t n) const {
  if (on_tokens) on_tokens(n);
}

void TaskEnv::check_cancel() const {
  if (cancel && cancel->load()) throw Cancelled();
}

WindowScore score_window(const Model& model, std::span<const std::int32_t> input,
                         std::span<const std::int32_t> targets, const TaskEnv& env) {
  env.check_cancel();
  WindowScore s;
  if (input.empty()) return s;
  if (targets.size() != input.size()) throw InternalError("score_window: targets and input differ in length");
  auto seq = model.new_sequence();
  AppendOutput out;
  out.targets = targets;
  out.target_logprobs = &s.logprobs;
  out.target_is_greedy = &s.greedy;
  seq->append(input, out);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] < 0) continue;
    s.sum += s.logprobs[i];
    ++s.scored;
    if (!s.greedy[i]) s.all_greedy = false;
  }
  env.tokens_done(static_cast<std::int64_t>(input.size()));
  return s;
}

WindowScore score_continuation(const Model& model, std::span<const std::int32_t> context,
                               std::span<const std::int32_t> continuation, const TaskEnv& env) {
  // A continuation can encode to no tokens (its text merged into the context's last token); lm-eval then scores
  // loglikelihood 0 and greedy true, and so do we.
  if (continuation.empty()) return WindowScore{};
  std::vector<std::int32_t> whole;
  if (context.empty()) whole.push_back(env.prefix_token);
  else whole.assign(context.begin(), context.end());
  whole.insert(whole.end(), continuation.begin(), continuation.end());
  const auto L = static_cast<std::size_t>(std::max<std::int64_t>(env.max_length, 1));
  // Keep the last L+1 tokens, read all but the last.
  const std::size_t start = whole.size() > L + 1 ? whole.size() - (L + 1) : 0;
  std::vector<std::int32_t> input(whole.begin() + static_cast<std::ptrdiff_t>(start), whole.end() - 1);
  std::vector<std::int32_t> targets(input.size(), -1);
  const std::size_t n = std::min(continuation.size(), input.size());
  for (std::size_t j = 0; j < n; ++j)
    targets[input.size() - n + j] = continuation[continuation.size() - n + j];
  return score_window(model, input, targets, env);
}

std::vector<std::int32_t> greedy_continuation(const Model& model, std::span<const std::int32_t> prompt,
                                              std::int64_t max_new, const TaskEnv& env) {
  env.check_cancel();
  auto out = generate_greedy(model, prompt, max_new);
  env.tokens_done(static_cast<std::int64_t>(prompt.size() + out.size()));
  return out;
}

MeanStderr mean_stderr(std::span<const double> v) {
  MeanStderr r;
  if (v.empty()) return r;
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.stderr_ = std::sqrt(ss / static_cast<double>(v.size() - 1)) / std::sqrt(static_cast<double>(v.size()));
  }
  return r;
}

}  // namespace lmscope::eval
