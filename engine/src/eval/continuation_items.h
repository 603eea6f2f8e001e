// The charlevel task's continuation items: positions in the text where the model continues a prompt of the
// preceding characters and its characters are compared with the text's. Positions are spread evenly over the whole
// text, so a long corpus is sampled throughout rather than at its start.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace lmscope::eval {

struct ContinuationItem {
  std::size_t segment = 0;
  // Byte offsets in the segment: prompt [prompt_begin, split), target [split, target_end).
  std::size_t prompt_begin = 0, split = 0, target_end = 0;
};

struct ContinuationPlan {
  std::vector<ContinuationItem> items;
  std::int64_t eligible = 0;       // positions with a full prompt before and a full target after them
  std::int64_t longest_chars = 0;  // characters of the longest segment (for the message when none is eligible)
};

// A position p (a character index within one segment) is eligible when prefix_chars characters precede it and
// n_chars characters start at it. Of the E eligible positions, counted segment by segment, item k of
// K = min(items, E) takes the one at index floor((2k + 1) · E / (2K)): the middles of K equal parts. The prompt is
// the prefix_chars characters before p, shortened from its start (by whole characters, at least one kept) while
// prompt and target bytes together exceed max_length, so a correct continuation fits the model's context.
ContinuationPlan plan_continuations(std::span<const std::string_view> segments, std::int64_t prefix_chars,
                                    std::int64_t n_chars, std::int64_t items, std::int64_t max_length);

}  // namespace lmscope::eval
