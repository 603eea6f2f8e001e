// tokenizer.json decoders: ByteLevel, Metaspace, Replace (literal), ByteFallback, Fuse, Strip and Sequence, each
// turning the list of token strings as the reference's decode_chain does; no decoder joins tokens with spaces.
// Where the reference writes U+FFFD for bytes that are not UTF-8 (ByteLevel, ByteFallback), the bytes are kept,
// so a streaming decoder can wait for the rest of a character.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/hf_json.h"

namespace lmscope {

class Decoder {
 public:
  static Decoder from_json(const hf::json* j, const std::string& file);
  std::string decode(std::vector<std::string> tokens) const;

 private:
  struct Step {
    enum Kind { ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip } kind;
    std::string a, b;  // Replace: pattern -> content; Metaspace: replacement; Strip: content
    bool prepend = true;  // Metaspace: prepend_scheme is not "never"
    std::size_t start = 0, stop = 0;  // Strip
  };
  void add(const hf::json& j, const std::string& file);
  std::vector<Step> steps_;
  bool none_ = true;
};

}  // namespace lmscope
