// Scores of a generated answer against its references, as RULER and the recall benchmarks define them. All
// comparisons are case-insensitive: both sides are lower-cased code point by code point (Unicode simple case
// mapping, as Python's str.lower() for everything but a few multi-character mappings such as 'İ').
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace lmscope::eval {

std::string lower_case(std::string_view utf8);

// RULER's string_match_all for one item: the fraction of references that occur in the output.
double string_match_all(std::string_view output, std::span<const std::string> references);
// RULER's string_match_part for one item: 1 when any reference occurs in the output.
double string_match_part(std::string_view output, std::span<const std::string> references);
// The recall tasks' "contains": some answer occurs in the output. Empty answers never count.
bool contains_any(std::string_view output, std::span<const std::string> answers);

}  // namespace lmscope::eval
