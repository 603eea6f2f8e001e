// A compiled PCRE2 pattern in UTF + UCP mode (\p{L}, \s, ... by Unicode properties, as the Hugging Face
// tokenizers' onig/fancy-regex patterns mean them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmscope {

class Pcre2Regex {
 public:
  // BadInput "<where>: regex does not compile at offset N: reason" when the pattern is invalid.
  Pcre2Regex(const std::string& pattern, const std::string& where);
  ~Pcre2Regex();
  Pcre2Regex(const Pcre2Regex&) = delete;
  Pcre2Regex& operator=(const Pcre2Regex&) = delete;
  // Non-overlapping matches left to right as [begin, end) byte ranges; empty matches are skipped.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmscope
