#include "eval/scoring.h"

#include <cmath>
#include <map>

#include "lmscope/error.h"
#include "lmscope/eval/rolling_windows.h"

namespace lmscope::eval {

void TaskEnv::tokens_done(std::int64_t n) const {
  if (on_tokens) on_tokens(n);
}

void TaskEnv::check_cancel() const {
  if (cancel && cancel->load()) throw Cancelled();
}

namespace {

WindowScore summarise(std::vector<double> lp, std::vector<std::uint8_t> greedy, std::span<const std::int32_t> targets) {
  WindowScore s;
  s.logprobs = std::move(lp);
  s.greedy = std::move(greedy);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] < 0) continue;
    s.sum += s.logprobs[i];
    ++s.scored;
    if (!s.greedy[i]) s.all_greedy = false;
  }
  return s;
}

}  // namespace

WindowScore score_window(const Model& model, std::span<const std::int32_t> input,
                         std::span<const std::int32_t> targets, const TaskEnv& env) {
  env.check_cancel();
  if (input.empty()) return WindowScore{};
  if (targets.size() != input.size()) throw InternalError("score_window: targets and input differ in length");
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  score_sequence(model, input, targets, lp, greedy);
  env.tokens_done(static_cast<std::int64_t>(input.size()));
  return summarise(std::move(lp), std::move(greedy), targets);
}

std::vector<WindowScore> score_windows(const Model& model, std::span<const WindowRequest> windows, const TaskEnv& env) {
  std::vector<WindowScore> out(windows.size());
  // Equal lengths batch together; keep each group's request order.
  std::map<std::size_t, std::vector<std::size_t>> by_length;
  for (std::size_t i = 0; i < windows.size(); ++i) by_length[windows[i].input.size()].push_back(i);
  std::int64_t micro = std::max<std::int64_t>(env.batch_size, 1);
  std::vector<std::int32_t> tokens, targets;
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  for (const auto& [T, idx] : by_length) {
    if (T == 0) continue;
    for (std::size_t k0 = 0; k0 < idx.size();) {
      env.check_cancel();
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(micro), idx.size() - k0);
      if (n == 1) {
        const auto& w = windows[idx[k0]];
        out[idx[k0]] = score_window(model, w.input, w.targets, env);
        ++k0;
        continue;
      }
      tokens.clear();
      targets.clear();
      for (std::size_t k = k0; k < k0 + n; ++k) {
        const auto& w = windows[idx[k]];
        if (w.targets.size() != T) throw InternalError("score_windows: targets and input differ in length");
        tokens.insert(tokens.end(), w.input.begin(), w.input.end());
        targets.insert(targets.end(), w.targets.begin(), w.targets.end());
      }
      try {
        model.score_batch(tokens, static_cast<std::int64_t>(n), targets, lp, greedy);
      } catch (const OutOfMemory&) {
        micro = static_cast<std::int64_t>((n + 1) / 2);
        continue;
      }
      for (std::size_t k = 0; k < n; ++k) {
        const auto a = static_cast<std::ptrdiff_t>(k * T), b = static_cast<std::ptrdiff_t>((k + 1) * T);
        out[idx[k0 + k]] = summarise(std::vector<double>(lp.begin() + a, lp.begin() + b),
                                     std::vector<std::uint8_t>(greedy.begin() + a, greedy.begin() + b),
                                     windows[idx[k0 + k]].targets);
      }
      env.tokens_done(static_cast<std::int64_t>(n * T));
      k0 += n;
    }
  }
  return out;
}

std::vector<ScoredWindow> score_rolling(const Model& model, std::span<const std::int32_t> tokens, std::int64_t max_length,
                                        std::int32_t prefix, const TaskEnv& env) {
  const auto ws = rolling_windows(tokens, max_length, prefix);
  std::vector<ScoredWindow> out(ws.size());
  std::vector<WindowRequest> requests;
  for (std::size_t k = 0; k < ws.size(); ++k) out[k].targets = position_targets(ws[k]);
  for (std::size_t k = 0; k < ws.size(); ++k) requests.push_back({ws[k].input, out[k].targets});
  auto scores = score_windows(model, requests, env);
  for (std::size_t k = 0; k < ws.size(); ++k) out[k].score = std::move(scores[k]);
  return out;
}

ContinuationWindow continuation_window(std::span<const std::int32_t> context, std::span<const std::int32_t> continuation,
                                       const TaskEnv& env) {
  ContinuationWindow w;
  // A continuation can encode to no tokens (its text merged into the context's last token); lm-eval then scores
  // loglikelihood 0 and greedy true: an empty window does the same.
  if (continuation.empty()) return w;
  std::vector<std::int32_t> whole;
  if (context.empty()) whole.push_back(env.prefix_token);
  else whole.assign(context.begin(), context.end());
  whole.insert(whole.end(), continuation.begin(), continuation.end());
  const auto L = static_cast<std::size_t>(std::max<std::int64_t>(env.max_length, 1));
  // Keep the last L+1 tokens, read all but the last.
  const std::size_t start = whole.size() > L + 1 ? whole.size() - (L + 1) : 0;
  w.input.assign(whole.begin() + static_cast<std::ptrdiff_t>(start), whole.end() - 1);
  w.targets.assign(w.input.size(), -1);
  const std::size_t n = std::min(continuation.size(), w.input.size());
  for (std::size_t j = 0; j < n; ++j) w.targets[w.input.size() - n + j] = continuation[continuation.size() - n + j];
  return w;
}

WindowScore score_continuation(const Model& model, std::span<const std::int32_t> context,
                               std::span<const std::int32_t> continuation, const TaskEnv& env) {
  const auto w = continuation_window(context, continuation, env);
  if (w.input.empty()) return WindowScore{};
  return score_window(model, w.input, w.targets, env);
}

std::vector<WindowScore> score_continuations(const Model& model, std::span<const ContinuationWindow> windows,
                                             const TaskEnv& env) {
  std::vector<WindowRequest> requests;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < windows.size(); ++i)
    if (!windows[i].input.empty()) {
      requests.push_back({windows[i].input, windows[i].targets});
      owner.push_back(i);
    }
  std::vector<WindowScore> out(windows.size());
  auto scores = score_windows(model, requests, env);
  for (std::size_t k = 0; k < owner.size(); ++k) out[owner[k]] = std::move(scores[k]);
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
