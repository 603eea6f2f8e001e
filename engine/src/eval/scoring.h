// The forward passes tasks are made of: score given targets of one window, score a continuation after a context
// (lm-eval's loglikelihood request). Generated answers are in answer_generation.h. Each is one pass from an empty state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

struct WindowScore {
  std::vector<double> logprobs;      // one per input position; 0 where nothing is scored
  std::vector<std::uint8_t> greedy;  // 1 where the target is the argmax
  double sum = 0;                    // over scored positions
  std::int64_t scored = 0;
  bool all_greedy = true;
};

// input[i] predicts targets[i] (targets < 0 are not scored).
WindowScore score_window(const Model& model, std::span<const std::int32_t> input,
                         std::span<const std::int32_t> targets, const TaskEnv& env);

// A window to score: input[i] predicts targets[i] (< 0: not scored).
struct WindowRequest {
  std::span<const std::int32_t> input;
  std::span<const std::int32_t> targets;
};

// score_window for many windows: up to env.batch_size at a time go through one Model::score_batch (one pass on
// backends that batch), longest first; shorter windows are right-padded to the pass's length where the model
// says that is exact (Model::pads_exactly), else only equal lengths share a pass. An out-of-memory halves the
// batch and retries. Results in request order.
std::vector<WindowScore> score_windows(const Model& model, std::span<const WindowRequest> windows, const TaskEnv& env);

// lm-eval's rolling windows over tokens (eval/rolling_windows.h), scored through score_windows. For each window its
// per-position targets (what AppendOutput::targets takes) and its score.
struct ScoredWindow {
  std::vector<std::int32_t> targets;
  WindowScore score;
};
std::vector<ScoredWindow> score_rolling(const Model& model, std::span<const std::int32_t> tokens, std::int64_t max_length,
                                        std::int32_t prefix, const TaskEnv& env);
// The same for several texts at once, their windows sharing passes; one list of windows per text.
std::vector<std::vector<ScoredWindow>> score_rolling(const Model& model, std::span<const std::span<const std::int32_t>> texts,
                                                     std::int64_t max_length, std::int32_t prefix, const TaskEnv& env);

// lm-eval's loglikelihood request as a window: (context + continuation)[-(L+1):][:-1] for max length L, the last
// len(continuation) positions scored. An empty context is replaced by [prefix_token]; an empty continuation gives
// an empty window (loglikelihood 0, greedy, as lm-eval).
struct ContinuationWindow {
  std::vector<std::int32_t> input, targets;
};
ContinuationWindow continuation_window(std::span<const std::int32_t> context, std::span<const std::int32_t> continuation,
                                       const TaskEnv& env);
// Many requests at once: equal-length windows share passes (score_windows).
std::vector<WindowScore> score_continuations(const Model& model, std::span<const ContinuationWindow> windows,
                                             const TaskEnv& env);
WindowScore score_continuation(const Model& model, std::span<const std::int32_t> context,
                               std::span<const std::int32_t> continuation, const TaskEnv& env);

// Mean and lm-eval's mean_stderr (sample standard deviation / sqrt(n)) of per-item values.
struct MeanStderr {
  double mean = 0, stderr_ = 0;
};
MeanStderr mean_stderr(std::span<const double> values);

}  // namespace lmscope::eval
