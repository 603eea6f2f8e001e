// tokenizer.json normalizers: NFC (through utf8proc), Replace with a literal pattern, Prepend, and Sequence of
// them. Applied to the text between added tokens, as the reference library does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_json.h"

namespace lmscope {

class Normalizer {
 public:
  // `j` null (or absent) is the identity; other normalizer types are refused by name.
  static Normalizer from_json(const hf::json* j, const std::string& file);
  // BadInput when NFC meets text that is not valid UTF-8.
  std::string apply(std::string_view text) const;
  bool identity() const { return steps_.empty(); }

 private:
  struct Step {
    enum Kind { Nfc, Replace, Prepend } kind;
    std::string pattern, content;  // Replace: pattern -> content; Prepend: content
  };
  void add(const hf::json& j, const std::string& file);
  std::vector<Step> steps_;
};

// Unicode canonical composition (NFC). BadInput for invalid UTF-8.
std::string nfc(std::string_view text);

}  // namespace lmscope
