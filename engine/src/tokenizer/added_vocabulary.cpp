#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace lmscope {
namespace {

// Start of the white space that ends text[0, end).
std::size_t white_space_start(std::string_view text, std::size_t end) {
  std::size_t at = end;
  while (at > 0) {
    std::size_t lead = at - 1;
    while (lead > 0 && (static_cast<unsigned char>(text[lead]) & 0xC0) == 0x80) --lead;
    std::size_t len = 0;
    if (!utf8::is_white_space(utf8::decode(text, lead, len))) break;
    at = lead;
  }
  return at;
}

// End of the white space that starts at text[begin].
std::size_t white_space_end(std::string_view text, std::size_t begin) {
  std::size_t at = begin;
  while (at < text.size()) {
    std::size_t len = 0;
    if (!utf8::is_white_space(utf8::decode(text, at, len))) break;
    at += len;
  }
  return at;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view key, std::int32_t token) {
  if (key.empty()) return;
  first_byte[static_cast<unsigned char>(key[0])] = true;
  std::int32_t node = 0;
  for (unsigned char c : key) {
    auto& next = nodes[static_cast<std::size_t>(node)].next;
    auto it = std::find_if(next.begin(), next.end(), [c](const auto& p) { return p.first == c; });
    if (it != next.end()) {
      node = it->second;
    } else {
      const auto child = static_cast<std::int32_t>(nodes.size());
      nodes[static_cast<std::size_t>(node)].next.emplace_back(c, child);
      nodes.emplace_back();
      node = child;
    }
  }
  // a later token with the same content replaces the earlier, as the reference's content -> id map does
  nodes[static_cast<std::size_t>(node)].token = token;
}

std::pair<std::size_t, std::int32_t> AddedVocabulary::Trie::longest(std::string_view text, std::size_t at) const {
  std::pair<std::size_t, std::int32_t> best{0, -1};
  if (!first_byte[static_cast<unsigned char>(text[at])]) return best;
  std::int32_t node = 0;
  for (std::size_t i = at; i < text.size(); ++i) {
    const auto& next = nodes[static_cast<std::size_t>(node)].next;
    const auto c = static_cast<unsigned char>(text[i]);
    auto it = std::find_if(next.begin(), next.end(), [c](const auto& p) { return p.first == c; });
    if (it == next.end()) break;
    node = it->second;
    if (nodes[static_cast<std::size_t>(node)].token >= 0) best = {i + 1 - at, nodes[static_cast<std::size_t>(node)].token};
  }
  return best;
}

void AddedVocabulary::finalize(const Normalizer& normalizer) {
  raw_ = Trie{};
  normalized_ = Trie{};
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    if (t.normalized) normalized_.insert(normalizer.apply(t.content), static_cast<std::int32_t>(i));
    else raw_.insert(t.content, static_cast<std::int32_t>(i));
  }
}

std::vector<AddedVocabulary::Segment> AddedVocabulary::split(std::string_view text, bool normalized, bool allow_special) const {
  const Trie& trie = normalized ? normalized_ : raw_;
  std::vector<Segment> out;
  std::size_t done = 0;  // end of what the segments so far cover
  for (std::size_t at = 0; at < text.size();) {
    const auto [len, index] = trie.longest(text, at);
    if (index < 0) {
      ++at;
      continue;
    }
    const AddedToken& t = tokens_[static_cast<std::size_t>(index)];
    const std::size_t match_end = at + len;
    // A special token the caller does not allow is not a match, but the scan still steps over it (the reference's
    // matcher found it; only its use is skipped), so no shorter token inside it matches either.
    if (!t.special || allow_special) {
      std::size_t begin = at, end = match_end;
      if (t.lstrip) begin = std::max(white_space_start(text, begin), done);
      if (t.rstrip) end = white_space_end(text, end);
      if (begin > done) out.push_back({done, begin, std::nullopt});
      out.push_back({begin, end, t.id});
      done = end;
    }
    at = match_end;
  }
  if (done < text.size() || out.empty()) out.push_back({done, text.size(), std::nullopt});
  return out;
}

}  // namespace lmscope
