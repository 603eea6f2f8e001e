#include "eval/continuation_items.h"

#include <algorithm>

#include "eval/utf8_chars.h"

namespace lmscope::eval {

ContinuationPlan plan_continuations(std::span<const std::string_view> segments, std::int64_t prefix_chars,
                                    std::int64_t n_chars, std::int64_t items, std::int64_t max_length) {
  ContinuationPlan plan;
  std::vector<std::int64_t> eligible(segments.size());
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const auto c = static_cast<std::int64_t>(count_chars(segments[s]));
    plan.longest_chars = std::max(plan.longest_chars, c);
    eligible[s] = std::max<std::int64_t>(0, c - prefix_chars - n_chars + 1);
    plan.eligible += eligible[s];
  }
  const std::int64_t K = std::min(items, plan.eligible);
  std::size_t seg = 0;
  std::int64_t seg_first = 0;  // eligible index of the segment's first eligible position
  std::vector<std::size_t> starts;
  std::size_t starts_of = segments.size();
  for (std::int64_t k = 0; k < K; ++k) {
    const std::int64_t index = (2 * k + 1) * plan.eligible / (2 * K);
    while (index >= seg_first + eligible[seg]) seg_first += eligible[seg++];
    if (starts_of != seg) {  // character offsets of one segment at a time (items come in segment order)
      starts = char_starts(segments[seg]);
      starts.push_back(segments[seg].size());
      starts_of = seg;
    }
    const auto p = static_cast<std::size_t>(prefix_chars + index - seg_first);
    ContinuationItem it;
    it.segment = seg;
    it.split = starts[p];
    it.target_end = starts[p + static_cast<std::size_t>(n_chars)];
    std::size_t first = p - static_cast<std::size_t>(prefix_chars);
    while (first + 1 < p && static_cast<std::int64_t>(it.target_end - starts[first]) > max_length) ++first;
    it.prompt_begin = starts[first];
    plan.items.push_back(it);
  }
  return plan;
}

}  // namespace lmscope::eval
