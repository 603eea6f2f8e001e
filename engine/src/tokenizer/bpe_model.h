// The BPE model of tokenizer.json: vocabulary, merges by rank, byte_fallback, unk_token with fuse_unk,
// ignore_merges. A word's symbols are merged lowest rank first (leftmost on ties) through a priority queue over a
// linked list of symbols, so a long word costs O(n log n) rather than O(n^2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf_json.h"

namespace lmscope {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIds = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // byte_level: the vocabulary is written in GPT-2's byte alphabet and words arrive as raw bytes.
  // max_id: ids at or above it are refused (the tokenizer's whole id space).
  BpeModel(const hf::json& model, const std::string& file, bool byte_level, std::int64_t max_id);
  // Appends the ids of one pre-tokenized word. BadInput when a character has no token and there is no unk_token.
  void encode_word(std::string_view word, std::vector<std::int32_t>& ids) const;

  const TokenIds& vocab() const { return vocab_; }
  std::optional<std::int32_t> id_of(std::string_view token) const;
  std::int64_t entries() const { return static_cast<std::int64_t>(vocab_.size()); }

 private:
  std::uint64_t key(std::int32_t a, std::int32_t b) const {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  void merge(std::vector<std::int32_t>& symbols) const;

  std::string file_;
  bool byte_level_ = false, byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  std::optional<std::int32_t> unk_id_;
  TokenIds vocab_;
  std::array<std::optional<std::int32_t>, 256> byte_symbol_{};    // byte-level: the token of each byte
  std::array<std::optional<std::int32_t>, 256> fallback_token_{};  // <0xXX> tokens
  struct Merge {
    std::int32_t rank, merged;
  };
  std::unordered_map<std::uint64_t, Merge> merges_;
};

}  // namespace lmscope
