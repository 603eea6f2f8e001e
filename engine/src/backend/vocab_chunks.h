// Shared bookkeeping of the fused LM-head scoring (Backend::token_logprobs): the online log-sum-exp over
// vocabulary chunks, per row, kept on the host in double precision.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace lmscope {

// Columns per chunk so that a [rows, chunk] float buffer stays near `budget` elements.
inline std::int64_t vocab_chunk(std::int64_t rows, std::int64_t vocab, std::int64_t budget = 1 << 24) {
  const std::int64_t c = std::max<std::int64_t>(256, budget / std::max<std::int64_t>(rows, 1));
  return std::min(c, vocab);
}

struct RowScore {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;       // sum of exp(logit - max) over the columns seen
  std::int64_t argmax = -1;
  double target = std::numeric_limits<double>::quiet_NaN();

  // Folds in one chunk's statistics: its max (first index `chunk_argmax`), sum of exp(logit - chunk_max), and the
  // target's logit when the target lies in the chunk. Chunks arrive in increasing column order.
  void merge(double chunk_max, double chunk_sum, std::int64_t chunk_argmax) {
    if (chunk_max > max) {
      sum = sum * std::exp(max - chunk_max) + chunk_sum;
      max = chunk_max;
      argmax = chunk_argmax;
    } else {
      sum += chunk_sum * std::exp(chunk_max - max);
    }
  }
  double logprob() const { return target - (max + std::log(sum)); }
};

}  // namespace lmscope
