// The Hugging Face Split operation: a pattern (literal string or regex) finds matches in a piece, and a delimiter
// behaviour decides what becomes of matches and the text between them. Used by the Split, Digits and Metaspace
// pre-tokenizers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/pcre2_regex.h"

namespace lmscope {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class SplitPattern {
 public:
  static SplitPattern literal(std::string s);
  static SplitPattern regex(const std::string& pattern, const std::string& where);
  // Non-overlapping matches left to right, [begin, end) byte ranges. Empty regex matches are skipped (the
  // reference keeps them as empty delimiters; no family's pattern can match empty).
  std::vector<std::pair<std::size_t, std::size_t>> find(std::string_view text) const;

 private:
  std::string literal_;
  std::shared_ptr<Pcre2Regex> regex_;
};

using Range = std::pair<std::size_t, std::size_t>;

// The non-empty [begin, end) ranges of `text` that a Split with this behaviour keeps, in order. With invert the
// matches are the kept text and what lies between them the delimiters.
std::vector<Range> split_ranges(std::string_view text, const SplitPattern& pattern, SplitBehavior behavior, bool invert);

}  // namespace lmscope
