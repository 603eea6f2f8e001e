#include "tokenizer/bpe_model.h"

#include <cstdio>
#include <algorithm>
#include <functional>
#include <queue>

#include "lmscope/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace lmscope {

BpeModel::BpeModel(const hf::json& m, const std::string& file, bool byte_level, std::int64_t max_id)
    : file_(file), byte_level_(byte_level) {
  const std::string type = hf::type_of(m, file, "model");
  if (type != "BPE") hf::unsupported(file, "model type", "'" + type + "'", " (only BPE)");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!hf::get_string(m, k, "", file, "model").empty()) hf::unsupported(file, "model.", k);
  if (m.contains("dropout") && m["dropout"].is_number() && m["dropout"].get<double>() != 0.0)
    hf::unsupported(file, "model.dropout", "", " (evaluation needs deterministic tokenisation)");
  ignore_merges_ = hf::get_bool(m, "ignore_merges", false, file, "model");
  byte_fallback_ = hf::get_bool(m, "byte_fallback", false, file, "model");
  fuse_unk_ = hf::get_bool(m, "fuse_unk", false, file, "model");
  if (!m.contains("vocab") || !m["vocab"].is_object()) hf::fail(file, "model.vocab", "an object {token: id}");
  if (!m.contains("merges") || !m["merges"].is_array()) hf::fail(file, "model.merges", "a list of merges");

  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    const auto& v = it.value();
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= max_id)
      hf::fail(file, "model.vocab['" + it.key() + "']", "an integer id in [0, " + std::to_string(max_id) + ") (the tokenizer's " +
                                                            std::to_string(max_id) + " tokens), got " + v.dump());
    vocab_[it.key()] = static_cast<std::int32_t>(v.get<std::int64_t>());
  }
  const std::string unk = hf::get_string(m, "unk_token", "", file, "model");
  if (!unk.empty()) {
    unk_id_ = id_of(unk);
    if (!unk_id_) hf::fail(file, "model.unk_token", "a token of the vocabulary, got '" + unk + "'");
  }
  for (int b = 0; b < 256; ++b) {
    if (byte_level_) byte_symbol_[static_cast<std::size_t>(b)] = id_of(byte_level_chars()[static_cast<std::size_t>(b)]);
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    fallback_token_[static_cast<std::size_t>(b)] = id_of(name);
  }

  std::int32_t rank = 0;
  for (const auto& e : m["merges"]) {
    std::string a, b;
    if (e.is_string()) {  // older format: "left right"
      const std::string s = e.get<std::string>();
      const auto sp = s.find(' ');
      if (sp == std::string::npos) hf::fail(file, "model.merges", "\"left right\" strings or [left, right] pairs, got " + e.dump());
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      hf::fail(file, "model.merges", "\"left right\" strings or [left, right] pairs, got " + e.dump());
    }
    const auto ia = id_of(a), ib = id_of(b), im = id_of(a + b);
    if (!ia || !ib || !im)
      hf::fail(file, "model.merges[" + std::to_string(rank) + "]", "tokens in the vocabulary (\"" + a + "\" + \"" + b + "\")");
    merges_.emplace(key(*ia, *ib), Merge{rank, *im});  // the first (lowest) rank of a repeated pair stands
    ++rank;
  }
  // A byte-level vocabulary may lack a few bytes (GPT-NeoX-20B's does): as in the reference, only text that holds
  // one fails, at encode time.
}

std::optional<std::int32_t> BpeModel::id_of(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    // the whole word, if it is a token, wins over merging (Llama 3)
    std::optional<std::int32_t> whole;
    if (byte_level_) {
      std::string chars;
      for (unsigned char c : word) chars += byte_level_chars()[c];
      whole = id_of(chars);
    } else {
      whole = id_of(word);
    }
    if (whole) {
      ids.push_back(*whole);
      return;
    }
  }
  // One symbol per character (per byte for byte-level); a character without a token becomes its <0xXX> byte
  // tokens with byte_fallback, else unk_token (consecutive ones fused into one with fuse_unk).
  std::vector<std::int32_t> symbols;
  symbols.reserve(word.size());
  bool pending_unk = false;
  for (std::size_t i = 0; i < word.size();) {
    std::size_t len = 1;
    std::optional<std::int32_t> id;
    std::string_view unit;
    if (byte_level_) {
      id = byte_symbol_[static_cast<unsigned char>(word[i])];
      unit = byte_level_chars()[static_cast<unsigned char>(word[i])];
    } else {
      len = std::min(utf8::sequence_length(static_cast<unsigned char>(word[i])), word.size() - i);
      unit = word.substr(i, len);
      id = id_of(unit);
    }
    i += len;
    if (id) {
      if (pending_unk) symbols.push_back(*unk_id_);
      pending_unk = false;
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char c : unit) all = all && fallback_token_[c].has_value();
      if (all) {
        for (unsigned char c : unit) symbols.push_back(*fallback_token_[c]);
        continue;
      }
    }
    if (!unk_id_)
      throw BadInput("tokenize: " + file_ + " has no token for '" + std::string(unit) + "' and no unk_token to stand for it");
    if (pending_unk && !fuse_unk_) symbols.push_back(*unk_id_);
    pending_unk = true;
  }
  if (pending_unk) symbols.push_back(*unk_id_);
  merge(symbols);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

void BpeModel::merge(std::vector<std::int32_t>& symbols) const {
  const std::size_t n = symbols.size();
  if (n < 2) return;
  std::vector<std::int32_t> prev(n), next(n);
  for (std::size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<std::int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1;
  }
  // Queue entries are rank << 32 | position: the smallest rank, then the leftmost position, comes first. A rank
  // names one merge rule, so an entry is still valid exactly when the pair at its position has that rank now.
  auto rank_at = [&](std::int32_t pos) -> std::int64_t {
    const std::int32_t right = next[static_cast<std::size_t>(pos)];
    if (right < 0) return -1;
    const auto it = merges_.find(key(symbols[static_cast<std::size_t>(pos)], symbols[static_cast<std::size_t>(right)]));
    return it == merges_.end() ? -1 : it->second.rank;
  };
  auto entry = [](std::int64_t rank, std::int32_t pos) { return static_cast<std::uint64_t>(rank) << 32 | static_cast<std::uint32_t>(pos); };
  std::vector<std::uint64_t> initial;
  initial.reserve(n);
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (const auto r = rank_at(static_cast<std::int32_t>(i)); r >= 0) initial.push_back(entry(r, static_cast<std::int32_t>(i)));
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> queue(std::greater<>{}, std::move(initial));
  while (!queue.empty()) {
    const std::uint64_t top = queue.top();
    queue.pop();
    const auto rank = static_cast<std::int64_t>(top >> 32);
    const auto pos = static_cast<std::int32_t>(top & 0xFFFFFFFFu);
    const auto p = static_cast<std::size_t>(pos);
    // Entries go stale when a neighbour merged first (the symbol is gone, or the pair changed): skip them.
    if (symbols[p] < 0 || rank_at(pos) != rank) continue;
    const auto right = static_cast<std::size_t>(next[p]);
    symbols[p] = merges_.find(key(symbols[p], symbols[right]))->second.merged;
    symbols[right] = -1;
    next[p] = next[right];
    if (next[p] >= 0) prev[static_cast<std::size_t>(next[p])] = pos;
    if (prev[p] >= 0)
      if (const auto r = rank_at(prev[p]); r >= 0) queue.push(entry(r, prev[p]));
    if (const auto r = rank_at(pos); r >= 0) queue.push(entry(r, pos));
  }
  std::erase(symbols, -1);
}

}  // namespace lmscope
