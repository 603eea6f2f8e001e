#include "eval/scoring.h"

#include <cmath>
#include <algorithm>

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
  // Longest first (request order among equal lengths); a pass takes the next windows up to the micro-batch, each
  // right-padded to the first's length while the model scores padded windows exactly.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (windows[i].targets.size() != windows[i].input.size())
      throw InternalError("score_windows: targets and input differ in length");
    if (!windows[i].input.empty()) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return windows[a].input.size() > windows[b].input.size(); });
  std::int64_t micro = std::max<std::int64_t>(env.batch_size, 1);
  std::vector<std::int32_t> tokens, targets;
  std::vector<double> lp;
  std::vector<std::uint8_t> greedy;
  for (std::size_t k0 = 0; k0 < order.size();) {
    env.check_cancel();
    const std::size_t T = windows[order[k0]].input.size();
    std::size_t n = 1;
    while (n < static_cast<std::size_t>(micro) && k0 + n < order.size() &&
           model.pads_exactly(static_cast<std::int64_t>(windows[order[k0 + n]].input.size()), static_cast<std::int64_t>(T)))
      ++n;
    if (n == 1) {
      const auto& w = windows[order[k0]];
      out[order[k0]] = score_window(model, w.input, w.targets, env);
      ++k0;
      continue;
    }
    tokens.clear();
    targets.clear();
    std::int64_t real = 0;
    for (std::size_t k = k0; k < k0 + n; ++k) {
      const auto& w = windows[order[k]];
      tokens.insert(tokens.end(), w.input.begin(), w.input.end());
      targets.insert(targets.end(), w.targets.begin(), w.targets.end());
      tokens.insert(tokens.end(), T - w.input.size(), w.input.back());  // padding: any valid id, never scored
      targets.insert(targets.end(), T - w.input.size(), -1);
      real += static_cast<std::int64_t>(w.input.size());
    }
    try {
      model.score_batch(tokens, static_cast<std::int64_t>(n), targets, lp, greedy);
    } catch (const OutOfMemory&) {
      micro = static_cast<std::int64_t>((n + 1) / 2);
      continue;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const auto& w = windows[order[k0 + k]];
      const auto a = static_cast<std::ptrdiff_t>(k * T), b = a + static_cast<std::ptrdiff_t>(w.input.size());
      out[order[k0 + k]] = summarise(std::vector<double>(lp.begin() + a, lp.begin() + b),
                                     std::vector<std::uint8_t>(greedy.begin() + a, greedy.begin() + b), w.targets);
    }
    env.tokens_done(real);
    k0 += n;
  }
  return out;
}

std::vector<std::vector<ScoredWindow>> score_rolling(const Model& model, std::span<const std::span<const std::int32_t>> texts,
                                                     std::int64_t max_length, std::int32_t prefix, const TaskEnv& env) {
  std::vector<std::vector<RollingWindow>> ws;
  std::vector<std::vector<ScoredWindow>> out(texts.size());
  std::vector<WindowRequest> requests;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    ws.push_back(rolling_windows(texts[t], max_length, prefix));
    out[t].resize(ws[t].size());
    for (std::size_t k = 0; k < ws[t].size(); ++k) out[t][k].targets = position_targets(ws[t][k]);
  }
  for (std::size_t t = 0; t < texts.size(); ++t)
    for (std::size_t k = 0; k < ws[t].size(); ++k) requests.push_back({ws[t][k].input, out[t][k].targets});
  auto scores = score_windows(model, requests, env);
  std::size_t next = 0;
  for (auto& windows : out)
    for (auto& w : windows) w.score = std::move(scores[next++]);
  return out;
}

std::vector<ScoredWindow> score_rolling(const Model& model, std::span<const std::int32_t> tokens, std::int64_t max_length,
                                        std::int32_t prefix, const TaskEnv& env) {
  const std::span<const std::int32_t> one[] = {tokens};
  return std::move(score_rolling(model, one, max_length, prefix, env)[0]);
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
