// Hugging Face tokenizer.json with a byte-level BPE model (Llama 3, GPT-2, Qwen style).
// Pipeline: added tokens (only when the caller allows them) -> pre-tokenizers (Split with the file's regex,
// ByteLevel) -> BPE by merge rank on each pre-token -> ids; decoding concatenates each token's bytes.
// The vocabulary is kept as raw bytes: byte-level token strings are mapped back through GPT-2's byte <-> char
// table at load, so encoding works on the text's bytes directly.
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "lmscope/error.h"
#include "tokenizer/pcre2_regex.h"
#include "tokenizer/tokenizers.h"

namespace lmscope {
namespace {

using nlohmann::json;

// GPT-2's pretokenizer regex, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2's reversible byte -> printable code point table.
std::vector<char32_t> byte_to_char() {
  std::vector<char32_t> t(256);
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
  }
  return t;
}

// Decodes a byte-level token string (UTF-8 of table code points) to raw bytes; nullopt when a character is not
// in the table (such a token, e.g. a special token's text, is kept as its UTF-8).
std::optional<std::string> byte_level_to_bytes(const std::string& s, const std::unordered_map<char32_t, unsigned char>& rev) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    char32_t cp;
    std::size_t n;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < s.size()) {
      cp = (static_cast<char32_t>(b & 0x1F) << 6) | (s[i + 1] & 0x3F);
      n = 2;
    } else if ((b & 0xF0) == 0xE0 && i + 2 < s.size()) {
      cp = (static_cast<char32_t>(b & 0x0F) << 12) | (static_cast<char32_t>(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
      n = 3;
    } else {
      return std::nullopt;
    }
    auto it = rev.find(cp);
    if (it == rev.end()) return std::nullopt;
    out += static_cast<char>(it->second);
    i += n;
  }
  return out;
}

struct AddedToken {
  std::string content;
  std::int32_t id;
};

struct PreTokenizerStep {
  enum Kind { Split, ByteLevel } kind;
  std::shared_ptr<Pcre2Regex> regex;  // Split, or ByteLevel with use_regex
  bool add_prefix_space = false;      // ByteLevel
};

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(const std::filesystem::path& file, const TokenizerConfig& cfg) : file_(file.string()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw BadInput(file_ + ": cannot read");
    std::ostringstream text;
    text << in.rdbuf();
    json j;
    try {
      j = json::parse(text.str());
    } catch (const json::parse_error& e) {
      throw BadInput(file_ + ": not well-formed JSON (truncated?): " + e.what());
    }
    if (!j.is_object()) fail("", "a JSON object");
    load_model(field(j, "model", true));
    load_normalizer(field(j, "normalizer", false));
    load_pre_tokenizer(field(j, "pre_tokenizer", false));
    load_added_tokens(field(j, "added_tokens", false));
    load_decoder(field(j, "decoder", false));
    load_post_processor(field(j, "post_processor", false));
    if (!bos_id_ && cfg.bos_token) bos_id_ = token_id(*cfg.bos_token);
    if (cfg.eos_token) eos_id_ = token_id(*cfg.eos_token);
    if (!eos_id_ && cfg.add_eos_token.value_or(false)) fail("post_processor", "an EOS token to add (tokenizer_config.json asks for one)");
    add_eos_ = add_eos_ || cfg.add_eos_token.value_or(false);
  }

  std::string kind() const override { return "byte-level BPE"; }
  std::int64_t vocab_size() const override { return static_cast<std::int64_t>(id_bytes_.size()); }

  std::string decode(std::span<const std::int32_t> ids) const override {
    std::string out;
    for (auto id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= id_bytes_.size())
        throw BadInput("detokenize: id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(id_bytes_.size()) + ")");
      out += id_bytes_[static_cast<std::size_t>(id)];
    }
    return out;
  }

 protected:
  std::vector<std::int32_t> encode_text(std::string_view text, bool allow_special) const override {
    std::vector<std::int32_t> ids;
    if (!allow_special || added_.empty()) {
      encode_plain(text, ids);
      return ids;
    }
    // Added tokens split the text first (longest match at the leftmost position); the rest is plain text.
    std::size_t pos = 0, plain_start = 0;
    while (pos < text.size()) {
      const AddedToken* hit = nullptr;
      for (const auto& a : added_)
        if (text.compare(pos, a.content.size(), a.content) == 0 && (!hit || a.content.size() > hit->content.size())) hit = &a;
      if (!hit) {
        ++pos;
        continue;
      }
      encode_plain(text.substr(plain_start, pos - plain_start), ids);
      ids.push_back(hit->id);
      pos += hit->content.size();
      plain_start = pos;
    }
    encode_plain(text.substr(plain_start), ids);
    return ids;
  }

 private:
  [[noreturn]] void fail(const std::string& component, const std::string& expected) const {
    throw BadInput(file_ + ": " + (component.empty() ? std::string("") : "'" + component + "': ") + "expected " + expected);
  }

  const json* field(const json& j, const char* key, bool required) const {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) throw BadInput(file_ + ": missing field '" + key + "'");
      return nullptr;
    }
    return &j[key];
  }

  std::string type_of(const json& j, const std::string& component) const {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(component, "an object with a string 'type'");
    return j["type"].get<std::string>();
  }

  void load_model(const json* m) {
    if (!m) fail("model", "a BPE model");
    const std::string type = type_of(*m, "model");
    if (type != "BPE") throw BadInput(file_ + ": model type '" + type + "' is not supported (only byte-level BPE)");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (m->contains(k) && !(*m)[k].is_null() && !((*m)[k].is_string() && (*m)[k].get<std::string>().empty()))
        throw BadInput(file_ + ": model." + k + " is not supported");
    if (m->contains("dropout") && (*m)["dropout"].is_number() && (*m)["dropout"].get<double>() != 0.0)
      throw BadInput(file_ + ": model.dropout is not supported (evaluation needs deterministic tokenisation)");
    ignore_merges_ = m->value("ignore_merges", false);
    byte_fallback_ = m->value("byte_fallback", false);
    if (!m->contains("vocab") || !(*m)["vocab"].is_object()) fail("model.vocab", "an object {token: id}");
    if (!m->contains("merges") || !(*m)["merges"].is_array()) fail("model.merges", "a list of merges");

    const auto table = byte_to_char();
    std::unordered_map<char32_t, unsigned char> rev;
    for (int b = 0; b < 256; ++b) rev[table[static_cast<std::size_t>(b)]] = static_cast<unsigned char>(b);
    std::unordered_map<std::string, std::int32_t> by_text;
    for (auto it = (*m)["vocab"].begin(); it != (*m)["vocab"].end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 || it.value().get<std::int64_t>() > 0x7FFFFFFF)
        fail("model.vocab['" + it.key() + "']", "a non-negative integer id");
      const auto id = static_cast<std::int32_t>(it.value().get<std::int64_t>());
      by_text[it.key()] = id;
      set_bytes(id, byte_level_to_bytes(it.key(), rev).value_or(it.key()));
      if (auto raw = byte_level_to_bytes(it.key(), rev)) ids_by_bytes_[*raw] = id;
    }
    vocab_by_text_ = std::move(by_text);
    if (m->contains("unk_token") && (*m)["unk_token"].is_string()) unk_id_ = token_id((*m)["unk_token"].get<std::string>());

    std::int32_t rank = 0;
    for (const auto& e : (*m)["merges"]) {
      std::string a, b;
      if (e.is_string()) {  // older format: "a b"
        const std::string s = e.get<std::string>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos) fail("model.merges", "\"left right\" strings or [left, right] pairs, got " + e.dump());
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        fail("model.merges", "\"left right\" strings or [left, right] pairs, got " + e.dump());
      }
      const auto ia = vocab_by_text_.find(a), ib = vocab_by_text_.find(b), im = vocab_by_text_.find(a + b);
      if (ia == vocab_by_text_.end() || ib == vocab_by_text_.end() || im == vocab_by_text_.end())
        fail("model.merges[" + std::to_string(rank) + "]", "tokens in the vocabulary (\"" + a + "\" + \"" + b + "\")");
      merges_.emplace(pair_key(ia->second, ib->second), std::make_pair(rank, im->second));
      ++rank;
    }
    for (int byte = 0; byte < 256; ++byte)
      if (!ids_by_bytes_.count(std::string(1, static_cast<char>(byte))) && !byte_fallback_ && !unk_id_)
        fail("model.vocab", "a token for every byte (byte-level BPE), or byte_fallback / unk_token");
  }

  void load_normalizer(const json* n) {
    if (!n) return;
    const std::string type = type_of(*n, "normalizer");
    if (type == "Sequence" && n->contains("normalizers") && (*n)["normalizers"].is_array() && (*n)["normalizers"].empty()) return;
    throw BadInput(file_ + ": normalizer type '" + type + "' is not supported");
  }

  void add_pre_tokenizer(const json& p) {
    const std::string type = type_of(p, "pre_tokenizer");
    if (type == "Sequence") {
      if (!p.contains("pretokenizers") || !p["pretokenizers"].is_array()) fail("pre_tokenizer.pretokenizers", "a list");
      for (const auto& q : p["pretokenizers"]) add_pre_tokenizer(q);
    } else if (type == "Split") {
      if (!p.contains("pattern") || !p["pattern"].is_object()) fail("pre_tokenizer Split.pattern", "{\"Regex\": ...} or {\"String\": ...}");
      const auto& pat = p["pattern"];
      std::string regex;
      if (pat.contains("Regex") && pat["Regex"].is_string()) {
        regex = pat["Regex"].get<std::string>();
      } else if (pat.contains("String") && pat["String"].is_string()) {
        regex = "\\Q" + pat["String"].get<std::string>() + "\\E";
      } else {
        fail("pre_tokenizer Split.pattern", "{\"Regex\": string} or {\"String\": string}");
      }
      const std::string behavior = p.value("behavior", "Isolated");
      if (behavior != "Isolated") throw BadInput(file_ + ": pre_tokenizer Split behavior '" + behavior + "' is not supported (only Isolated)");
      if (p.value("invert", false)) throw BadInput(file_ + ": pre_tokenizer Split with invert true is not supported");
      steps_.push_back({PreTokenizerStep::Split, std::make_shared<Pcre2Regex>(regex, file_ + ": pre_tokenizer Split"), false});
    } else if (type == "ByteLevel") {
      PreTokenizerStep s{PreTokenizerStep::ByteLevel, nullptr, p.value("add_prefix_space", false)};
      if (p.value("use_regex", true)) s.regex = std::make_shared<Pcre2Regex>(kGpt2Pattern, file_ + ": ByteLevel");
      steps_.push_back(std::move(s));
      has_byte_level_ = true;
    } else {
      throw BadInput(file_ + ": pre_tokenizer type '" + type + "' is not supported (Split, ByteLevel, Sequence)");
    }
  }

  void load_pre_tokenizer(const json* p) {
    if (p) add_pre_tokenizer(*p);
    if (!has_byte_level_) throw BadInput(file_ + ": pre_tokenizer has no ByteLevel step: only byte-level BPE is supported");
  }

  void load_added_tokens(const json* a) {
    if (!a) return;
    if (!a->is_array()) fail("added_tokens", "a list");
    for (const auto& t : *a) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") || !t["content"].is_string())
        fail("added_tokens", "objects with integer 'id' and string 'content'");
      for (const char* k : {"lstrip", "rstrip", "single_word"})
        if (t.value(k, false))
          throw BadInput(file_ + ": added token '" + t["content"].get<std::string>() + "' sets " + k + ", which is not supported");
      AddedToken tok{t["content"].get<std::string>(), static_cast<std::int32_t>(t["id"].get<std::int64_t>())};
      set_bytes(tok.id, tok.content);
      vocab_by_text_[tok.content] = tok.id;
      added_.push_back(std::move(tok));
    }
  }

  void load_decoder(const json* d) {
    if (!d) return;
    const std::string type = type_of(*d, "decoder");
    if (type == "ByteLevel") return;
    if (type == "Sequence" && d->contains("decoders") && (*d)["decoders"].is_array() && (*d)["decoders"].size() == 1 &&
        type_of((*d)["decoders"][0], "decoder") == "ByteLevel")
      return;
    throw BadInput(file_ + ": decoder type '" + type + "' is not supported (only ByteLevel)");
  }

  void load_post_processor(const json* p) {
    if (!p) return;
    const std::string type = type_of(*p, "post_processor");
    if (type == "ByteLevel") return;  // offsets only
    if (type == "Sequence") {
      if (!p->contains("processors") || !(*p)["processors"].is_array()) fail("post_processor.processors", "a list");
      for (const auto& q : (*p)["processors"]) load_post_processor(&q);
      return;
    }
    if (type != "TemplateProcessing") throw BadInput(file_ + ": post_processor type '" + type + "' is not supported");
    if (!p->contains("single") || !(*p)["single"].is_array()) fail("post_processor.single", "a list");
    const auto& single = (*p)["single"];
    bool seen_sequence = false;
    for (const auto& piece : single) {
      if (piece.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!piece.contains("SpecialToken") || !piece["SpecialToken"].contains("id"))
        fail("post_processor.single", "SpecialToken and Sequence entries");
      const std::string name = piece["SpecialToken"]["id"].get<std::string>();
      std::int32_t id = -1;
      if (p->contains("special_tokens") && (*p)["special_tokens"].contains(name) && (*p)["special_tokens"][name].contains("ids") &&
          (*p)["special_tokens"][name]["ids"].size() == 1)
        id = (*p)["special_tokens"][name]["ids"][0].get<std::int32_t>();
      else
        fail("post_processor.special_tokens['" + name + "']", "exactly one id");
      set_bytes(id, name);
      if (!seen_sequence) {
        if (add_bos_) fail("post_processor.single", "at most one special token before the text");
        bos_id_ = id;
        add_bos_ = true;
      } else {
        if (add_eos_) fail("post_processor.single", "at most one special token after the text");
        eos_id_ = id;
        add_eos_ = true;
      }
    }
  }

  // Records what an id decodes to (special tokens decode to their text).
  void set_bytes(std::int32_t id, const std::string& bytes) {
    if (static_cast<std::size_t>(id) >= id_bytes_.size()) id_bytes_.resize(static_cast<std::size_t>(id) + 1);
    if (id_bytes_[static_cast<std::size_t>(id)].empty()) id_bytes_[static_cast<std::size_t>(id)] = bytes;
  }

  std::optional<std::int32_t> token_id(const std::string& text) const {
    auto it = vocab_by_text_.find(text);
    if (it == vocab_by_text_.end()) return std::nullopt;
    return it->second;
  }

  static std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }

  // Pre-tokenizers, then BPE on each piece.
  void encode_plain(std::string_view text, std::vector<std::int32_t>& ids) const {
    if (text.empty()) return;
    std::vector<std::string> pieces{std::string(text)};
    for (const auto& step : steps_) {
      std::vector<std::string> next;
      for (auto& piece : pieces) {
        if (step.kind == PreTokenizerStep::ByteLevel && step.add_prefix_space && !piece.empty() && piece[0] != ' ')
          piece.insert(piece.begin(), ' ');
        if (!step.regex) {
          next.push_back(std::move(piece));
          continue;
        }
        // Isolated: each match is a piece, and so is the text between matches.
        std::size_t last = 0;
        for (const auto& [b, e] : step.regex->find_all(piece)) {
          if (b > last) next.push_back(piece.substr(last, b - last));
          next.push_back(piece.substr(b, e - b));
          last = e;
        }
        if (last < piece.size()) next.push_back(piece.substr(last));
      }
      pieces = std::move(next);
    }
    for (const auto& piece : pieces) bpe_piece(piece, ids);
  }

  void bpe_piece(const std::string& piece, std::vector<std::int32_t>& ids) const {
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      auto it = cache_.find(piece);
      if (it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<std::int32_t> sym;
    auto whole = ids_by_bytes_.find(piece);
    if (ignore_merges_ && whole != ids_by_bytes_.end()) {
      sym.push_back(whole->second);
    } else {
      for (unsigned char c : piece) {
        auto it = ids_by_bytes_.find(std::string(1, static_cast<char>(c)));
        if (it != ids_by_bytes_.end()) {
          sym.push_back(it->second);
        } else if (byte_fallback_) {
          char name[8];
          std::snprintf(name, sizeof name, "<0x%02X>", c);
          const auto fb = token_id(name);
          if (!fb) throw BadInput(file_ + ": byte_fallback needs token '" + std::string(name) + "' in the vocabulary");
          sym.push_back(*fb);
        } else {
          sym.push_back(*unk_id_);
        }
      }
      // Merge the lowest-ranked adjacent pair (leftmost on ties) until none is in the merge list.
      while (sym.size() > 1) {
        std::int32_t best_rank = std::numeric_limits<std::int32_t>::max(), merged = -1;
        std::size_t best = 0;
        for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
          auto it = merges_.find(pair_key(sym[i], sym[i + 1]));
          if (it != merges_.end() && it->second.first < best_rank) {
            best_rank = it->second.first;
            merged = it->second.second;
            best = i;
          }
        }
        if (merged < 0) break;
        sym[best] = merged;
        sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      }
    }
    ids.insert(ids.end(), sym.begin(), sym.end());
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < 1'000'000) cache_.emplace(piece, std::move(sym));
  }

  std::string file_;
  bool ignore_merges_ = false, byte_fallback_ = false, has_byte_level_ = false;
  std::optional<std::int32_t> unk_id_;
  std::unordered_map<std::string, std::int32_t> vocab_by_text_;  // token text as written in the file -> id
  std::unordered_map<std::string, std::int32_t> ids_by_bytes_;   // raw bytes -> id (byte-level tokens)
  std::vector<std::string> id_bytes_;                            // id -> bytes it decodes to
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges_;  // (left, right) -> (rank, merged)
  std::vector<PreTokenizerStep> steps_;
  std::vector<AddedToken> added_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const std::filesystem::path& tokenizer_json, const TokenizerConfig& cfg) {
  try {
    return std::make_unique<BpeTokenizer>(tokenizer_json, cfg);
  } catch (const nlohmann::json::exception& e) {
    throw BadInput(tokenizer_json.string() + ": wrong JSON type in the tokenizer description: " + e.what());
  }
}

}  // namespace lmscope
