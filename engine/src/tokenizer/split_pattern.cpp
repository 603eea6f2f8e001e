#include "tokenizer/split_pattern.h"

#include <algorithm>

namespace lmscope {

SplitPattern SplitPattern::literal(std::string s) {
  SplitPattern p;
  p.literal_ = std::move(s);
  return p;
}

SplitPattern SplitPattern::regex(const std::string& pattern, const std::string& where) {
  SplitPattern p;
  p.regex_ = std::make_shared<Pcre2Regex>(pattern, where);
  return p;
}

std::vector<Range> SplitPattern::find(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<Range> out;
  if (literal_.empty()) return out;  // an empty literal matches nothing, as in the reference
  for (std::size_t at = text.find(literal_); at != std::string_view::npos; at = text.find(literal_, at + literal_.size()))
    out.emplace_back(at, at + literal_.size());
  return out;
}

std::vector<Range> split_ranges(std::string_view text, const SplitPattern& pattern, SplitBehavior behavior, bool invert) {
  // The text as alternating (range, is_match) parts covering all of it.
  std::vector<std::pair<Range, bool>> parts;
  std::size_t prev = 0;
  for (const auto& m : pattern.find(text)) {
    if (m.first > prev) parts.push_back({{prev, m.first}, invert});
    parts.push_back({m, !invert});
    prev = m.second;
  }
  if (prev < text.size()) parts.push_back({{prev, text.size()}, invert});

  std::vector<Range> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const auto& [r, is_match] : parts)
        if (!is_match) out.push_back(r);
      break;
    case SplitBehavior::Isolated:
      for (const auto& [r, is_match] : parts) out.push_back(r);
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const auto& [r, is_match] : parts) {
        if (is_match && !previous_match && !out.empty()) out.back().second = r.second;
        else out.push_back(r);
        previous_match = is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      // the mirror image: walk from the end, a match joins the part after it
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->second && !previous_match && !out.empty()) out.back().first = it->first.first;
        else out.push_back(it->first);
        previous_match = it->second;
      }
      std::reverse(out.begin(), out.end());
      break;
    case SplitBehavior::Contiguous:
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && parts[i].second == previous_match) out.back().second = parts[i].first.second;
        else out.push_back(parts[i].first);
        previous_match = parts[i].second;
      }
      break;
  }
  std::erase_if(out, [](const Range& r) { return r.first == r.second; });
  return out;
}

}  // namespace lmscope
