// tokenizer.json added tokens, matched before the model as the reference library matches them: leftmost-longest
// over the text; tokens with normalized=false on the raw text, normalized=true ones on the normalizer's output;
// special tokens only when the caller allows them (a skipped special token's text stays plain text); lstrip /
// rstrip absorb the white space beside a match.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lmscope {

class Normalizer;

struct AddedToken {
  std::string content;
  std::int32_t id = 0;
  bool special = false, normalized = false, lstrip = false, rstrip = false;
};

class AddedVocabulary {
 public:
  void add(AddedToken t) { tokens_.push_back(std::move(t)); }
  // Builds the matchers; normalized tokens are matched by their normalized content.
  void finalize(const Normalizer& normalizer);
  bool empty() const { return tokens_.empty(); }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

  struct Segment {
    std::size_t begin, end;
    std::optional<std::int32_t> id;  // set: an added token (with what it absorbed)
  };
  // The text cut at added tokens of one kind (normalized or not), in order; pieces may be empty.
  std::vector<Segment> split(std::string_view text, bool normalized, bool allow_special) const;

 private:
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, std::int32_t>> next;
      std::int32_t token = -1;  // index into tokens_ of the token ending here
    };
    std::vector<Node> nodes{Node{}};
    bool first_byte[256] = {};
    void insert(std::string_view key, std::int32_t token);
    // Length and token of the longest key starting at text[at], or {0, -1}.
    std::pair<std::size_t, std::int32_t> longest(std::string_view text, std::size_t at) const;
  };
  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
};

}  // namespace lmscope
