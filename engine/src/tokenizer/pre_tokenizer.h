// tokenizer.json pre-tokenizers: Split (any delimiter behaviour, invert), ByteLevel (with or without GPT-2's regex,
// add_prefix_space), Metaspace (replacement, prepend_scheme first/always/never, split), Digits, and Sequence.
// Pieces keep their bytes: ByteLevel's byte -> character mapping is left to the BPE model's lookup.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/hf_json.h"
#include "tokenizer/split_pattern.h"

namespace lmscope {

struct Piece {
  std::string text;
  bool at_origin = false;  // starts at byte 0 of the caller's text (Metaspace's prepend_scheme "first" asks)
};

class PreTokenizer {
 public:
  // `j` null is no pre-tokenizer (the whole piece is one word). Other types are refused by name.
  static PreTokenizer from_json(const hf::json* j, const std::string& file);
  void apply(std::vector<Piece>& pieces) const;
  // Whether a ByteLevel step turns the text into GPT-2's byte alphabet (the vocabulary is written in it).
  bool byte_level() const { return byte_level_; }

 private:
  struct Step {
    enum Kind { Split, ByteLevel, Metaspace } kind;
    SplitPattern pattern;  // Split; ByteLevel with use_regex; Metaspace with split (the replacement)
    bool has_pattern = false;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    bool add_prefix_space = false;  // ByteLevel
    std::string replacement;         // Metaspace
    enum Prepend { Always, First, Never } prepend = Always;
  };
  void add(const hf::json& j, const std::string& file);
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

}  // namespace lmscope
