// lm-eval's rolling log-likelihood windows (get_rolling_token_windows + make_disjoint_window, context_len 1):
// disjoint in their scored targets, each a separate forward pass from an empty state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lmscope::eval {

struct RollingWindow {
  std::vector<std::int32_t> input;    // what the model reads (at most max_length tokens)
  std::vector<std::int32_t> targets;  // the last targets.size() positions of input predict these, in order
};

// Windows over tokens t[0..n) for a model of max_length L (>= 1), with `prefix` (BOS, or EOS when the tokenizer
// has no BOS) as the first window's first input:
//   first: input [prefix] + t[0 : min(L, n) - 1], targets t[0 : min(L, n)];
//   then, while tokens remain: k = min(remaining, L), end = predicted + k,
//         input t[end - L - 1 : end - 1] (clipped at 0), targets t[end - k : end].
std::vector<RollingWindow> rolling_windows(std::span<const std::int32_t> tokens, std::int64_t max_length,
                                           std::int32_t prefix);

// Per input position, the token it must predict (-1 where nothing is scored): the shape AppendOutput::targets takes.
std::vector<std::int32_t> position_targets(const RollingWindow& w);

}  // namespace lmscope::eval
