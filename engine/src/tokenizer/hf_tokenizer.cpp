// Hugging Face tokenizer.json with a BPE model, encoded as the `tokenizers` library encodes it:
//   added tokens with normalized=false are cut out of the raw text -> the normalizer runs on the rest -> added
//   tokens with normalized=true are cut out of that -> the pre-tokenizer splits each piece -> BPE on each word;
// then BOS/EOS by the rule below. Decoding maps ids to token strings and runs the decoder.
// Byte-level BPE (GPT-2, Llama 3, Qwen, GPT-NeoX, OLMo 2, SmolLM) and SentencePiece-style BPE with byte fallback
// (Llama 2, Mistral, Phi-3, Gemma) are both this class; only the components differ.
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "lmscope/error.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizers.h"
#include "tokenizer/utf8.h"

namespace lmscope {
namespace {

using nlohmann::json;

// Ids are int32 everywhere in the engine; no tokenizer is near this.
constexpr std::int64_t kMaxId = 0x7FFFFFFF;

// transformers classes whose constructor rebuilds the post-processor from add_bos_token / add_eos_token (with
// these defaults), whatever tokenizer.json says: (BOS default, BOS text, EOS text).
struct RebuildingClass {
  const char* name;
  bool add_bos;
  const char *bos, *eos;
};
constexpr RebuildingClass kRebuildingClasses[] = {
    {"LlamaTokenizer", true, "<s>", "</s>"},         {"CodeLlamaTokenizer", true, "<s>", "</s>"},
    {"GemmaTokenizer", true, "<bos>", "<eos>"},      {"GPTNeoXTokenizer", false, "<|endoftext|>", "<|endoftext|>"},
    {"CohereTokenizer", true, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"},
};

const RebuildingClass* rebuilding_class(const std::optional<std::string>& cls) {
  if (!cls) return nullptr;
  std::string name = *cls;
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Fast") == 0) name.resize(name.size() - 4);
  for (const auto& c : kRebuildingClasses)
    if (name == c.name) return &c;
  return nullptr;
}

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(const std::filesystem::path& path, const TokenizerConfig& cfg) : file_(path.string()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BadInput(file_ + ": cannot read");
    std::ostringstream text;
    text << in.rdbuf();
    json j;
    try {
      j = json::parse(text.str());
    } catch (const json::parse_error& e) {
      throw BadInput(file_ + ": not well-formed JSON (truncated?): " + e.what());
    }
    if (!j.is_object()) throw BadInput(file_ + ": expected a JSON object");
    if (!j.contains("model") || j["model"].is_null()) throw BadInput(file_ + ": missing field 'model'");

    // The id space is dense in every real file: the model's tokens, then added tokens, then (Llama 3 converted
    // without its added tokens) post-processor tokens. An id past that is a broken file, and would cost memory.
    const json* added = field(j, "added_tokens");
    const json* post = field(j, "post_processor");
    if (added && !added->is_array()) hf::fail(file_, "added_tokens", "a list");
    if (!j["model"].is_object() || !j["model"].contains("vocab") || !j["model"]["vocab"].is_object())
      hf::fail(file_, "model.vocab", "an object {token: id}");
    const std::int64_t id_space = std::min<std::int64_t>(
        kMaxId, static_cast<std::int64_t>(j["model"]["vocab"].size() + (added ? added->size() : 0) + template_size(post)));

    normalizer_ = Normalizer::from_json(field(j, "normalizer"), file_);
    pre_tokenizer_ = PreTokenizer::from_json(field(j, "pre_tokenizer"), file_);
    model_ = std::make_unique<BpeModel>(j["model"], file_, pre_tokenizer_.byte_level(), id_space);
    load_added_tokens(added, id_space);
    decoder_ = Decoder::from_json(field(j, "decoder"), file_);
    load_post_processor(post, id_space);

    std::int64_t top = -1;
    for (const auto& [t, id] : model_->vocab()) top = std::max<std::int64_t>(top, id);
    for (const auto& t : added_.tokens()) top = std::max<std::int64_t>(top, t.id);
    for (const auto& [id, t] : template_tokens_) top = std::max<std::int64_t>(top, id);
    token_of_.assign(static_cast<std::size_t>(top + 1), nullptr);
    for (const auto& [t, id] : model_->vocab()) token_of_[static_cast<std::size_t>(id)] = &t;
    for (const auto& t : added_.tokens()) token_of_[static_cast<std::size_t>(t.id)] = &t.content;
    special_.assign(token_of_.size(), false);
    for (const auto& t : added_.tokens())
      if (t.special) special_[static_cast<std::size_t>(t.id)] = true;
    byte_level_ = pre_tokenizer_.byte_level();
    apply_bos_eos_rule(cfg);
  }

  std::string kind() const override { return byte_level_ ? "byte-level BPE" : "BPE"; }
  bool is_special(std::int32_t id) const override {
    return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
  }
  std::int64_t vocab_size() const override { return static_cast<std::int64_t>(token_of_.size()); }

  std::string decode(std::span<const std::int32_t> ids) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (auto id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= token_of_.size())
        throw BadInput("detokenize: id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(token_of_.size()) + ")");
      // An id with no token (a post-processor id the file does not otherwise list) decodes to nothing, as in the
      // reference.
      if (const std::string* t = token_of_[static_cast<std::size_t>(id)]) tokens.push_back(*t);
    }
    return decoder_.decode(std::move(tokens));
  }

 protected:
  std::vector<std::int32_t> encode_text(std::string_view text, bool allow_special) const override {
    if (!utf8::valid(text)) throw BadInput("tokenize: the text is not valid UTF-8");
    std::vector<std::int32_t> ids;
    for (const auto& raw : added_.split(text, false, allow_special)) {
      if (raw.id) {
        ids.push_back(*raw.id);
        continue;
      }
      if (raw.end == raw.begin) continue;
      const std::string normalized = normalizer_.apply(text.substr(raw.begin, raw.end - raw.begin));
      for (const auto& seg : added_.split(normalized, true, allow_special)) {
        if (seg.id) {
          ids.push_back(*seg.id);
          continue;
        }
        if (seg.end == seg.begin) continue;
        std::vector<Piece> pieces{{normalized.substr(seg.begin, seg.end - seg.begin), raw.begin == 0 && seg.begin == 0}};
        pre_tokenizer_.apply(pieces);
        for (const auto& p : pieces) encode_word(p.text, ids);
      }
    }
    return ids;
  }

 private:
  const json* field(const json& j, const char* key) const {
    return j.contains(key) && !j[key].is_null() ? &j[key] : nullptr;
  }

  static std::size_t template_size(const json* post) {
    if (!post || !post->is_object()) return 0;
    std::size_t n = post->contains("special_tokens") && (*post)["special_tokens"].is_object() ? (*post)["special_tokens"].size() : 0;
    if (post->contains("processors") && (*post)["processors"].is_array())
      for (const auto& p : (*post)["processors"]) n += template_size(&p);
    return n;
  }

  std::int32_t checked_id(const json& v, std::int64_t id_space, const std::string& component) const {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= id_space)
      hf::fail(file_, component, "an integer id in [0, " + std::to_string(id_space) + ") (the tokenizer's " +
                                     std::to_string(id_space) + " tokens), got " + v.dump());
    return static_cast<std::int32_t>(v.get<std::int64_t>());
  }

  void load_added_tokens(const json* a, std::int64_t id_space) {
    if (a) {
      for (const auto& t : *a) {
        if (!t.is_object() || !t.contains("content") || !t["content"].is_string() || !t.contains("id"))
          hf::fail(file_, "added_tokens", "objects with an integer 'id' and a string 'content'");
        AddedToken tok;
        tok.content = t["content"].get<std::string>();
        const std::string where = "added_tokens['" + tok.content + "']";
        tok.id = checked_id(t["id"], id_space, where + ".id");
        // The reference would match an empty token at every position.
        if (tok.content.empty()) hf::fail(file_, "added_tokens (id " + std::to_string(tok.id) + ").content", "a non-empty string");
        if (hf::get_bool(t, "single_word", false, file_, where)) hf::unsupported(file_, where, "with single_word true");
        tok.special = hf::get_bool(t, "special", false, file_, where);
        tok.normalized = hf::get_bool(t, "normalized", !tok.special, file_, where);
        tok.lstrip = hf::get_bool(t, "lstrip", false, file_, where);
        tok.rstrip = hf::get_bool(t, "rstrip", false, file_, where);
        added_.add(std::move(tok));
      }
    }
    added_.finalize(normalizer_);
  }

  void load_post_processor(const json* p, std::int64_t id_space) {
    if (!p) return;
    const std::string type = hf::type_of(*p, file_, "post_processor");
    if (type == "ByteLevel") return;  // offsets only
    if (type == "Sequence") {
      if (!p->contains("processors") || !(*p)["processors"].is_array()) hf::fail(file_, "post_processor.processors", "a list");
      for (const auto& q : (*p)["processors"]) load_post_processor(&q, id_space);
      return;
    }
    if (type != "TemplateProcessing") hf::unsupported(file_, "post_processor type", "'" + type + "'", " (TemplateProcessing, ByteLevel, Sequence)");
    if (!p->contains("single") || !(*p)["single"].is_array()) hf::fail(file_, "post_processor.single", "a list");
    bool seen_sequence = false;
    for (const auto& piece : (*p)["single"]) {
      if (piece.is_object() && piece.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!piece.is_object() || !piece.contains("SpecialToken") || !piece["SpecialToken"].is_object() ||
          !piece["SpecialToken"].contains("id") || !piece["SpecialToken"]["id"].is_string())
        hf::fail(file_, "post_processor.single", "SpecialToken and Sequence entries");
      const std::string name = piece["SpecialToken"]["id"].get<std::string>();
      const std::string where = "post_processor.special_tokens['" + name + "']";
      const json* st = p->contains("special_tokens") && (*p)["special_tokens"].is_object() && (*p)["special_tokens"].contains(name)
                           ? &(*p)["special_tokens"][name] : nullptr;
      if (!st || !st->is_object() || !st->contains("ids") || !(*st)["ids"].is_array() || (*st)["ids"].size() != 1)
        hf::fail(file_, where, "exactly one id");
      const std::int32_t id = checked_id((*st)["ids"][0], id_space, where + ".ids[0]");
      template_tokens_.emplace(id, name);
      template_ids_[name] = id;
      if (!seen_sequence) {
        if (template_bos_) hf::unsupported(file_, "post_processor.single", "with more than one special token before the text");
        template_bos_ = id;
      } else {
        if (template_eos_) hf::unsupported(file_, "post_processor.single", "with more than one special token after the text");
        template_eos_ = id;
      }
    }
  }

  // An id for a token text: added tokens, the model's vocabulary, then the post-processor's special tokens.
  std::optional<std::int32_t> token_id(const std::string& text) const {
    for (const auto& t : added_.tokens())
      if (t.content == text) return t.id;
    if (auto id = model_->id_of(text)) return id;
    if (auto it = template_ids_.find(text); it != template_ids_.end()) return it->second;
    return std::nullopt;
  }

  // BOS/EOS as transformers applies them (add_special_tokens=True):
  // - Llama, CodeLlama, Gemma, GPT-NeoX and Cohere tokenizer classes rebuild the post-processor from
  //   tokenizer_config.json's add_bos_token / add_eos_token (class defaults: BOS on except GPT-NeoX, EOS off), with
  //   bos_token / eos_token (class defaults when absent) — transformers 4.x and 5.x alike.
  // - Other classes (Qwen2, GPT2, PreTrainedTokenizerFast) keep tokenizer.json's post-processor, unless
  //   tokenizer_config.json sets add_bos_token or add_eos_token: transformers 5 then rebuilds it from those (an
  //   unset one counts as false); 4.x ignores them there.
  // A BOS/EOS that is to be added but whose text the tokenizer does not know is refused rather than dropped.
  void apply_bos_eos_rule(const TokenizerConfig& cfg) {
    const RebuildingClass* cls = rebuilding_class(cfg.tokenizer_class);
    const std::optional<std::string> bos_text = cfg.bos_token ? cfg.bos_token : cls ? std::optional<std::string>(cls->bos) : std::nullopt;
    const std::optional<std::string> eos_text = cfg.eos_token ? cfg.eos_token : cls ? std::optional<std::string>(cls->eos) : std::nullopt;
    bos_id_ = bos_text ? token_id(*bos_text) : std::nullopt;
    eos_id_ = eos_text ? token_id(*eos_text) : std::nullopt;
    if (cls || cfg.add_bos_token || cfg.add_eos_token) {
      add_bos_ = cfg.add_bos_token.value_or(cls && cls->add_bos);
      add_eos_ = cfg.add_eos_token.value_or(false);
      const std::string why = cls ? std::string(cls->name) + " (tokenizer_config.json's tokenizer_class)" : "tokenizer_config.json";
      if (add_bos_ && !bos_id_)
        throw BadInput(file_ + ": " + why + " adds a BOS token, but " +
                       (bos_text ? "its bos_token '" + *bos_text + "' is not a token of this tokenizer" : std::string("no bos_token is set")) +
                       " (fix bos_token, or set add_bos_token false)");
      if (add_eos_ && !eos_id_)
        throw BadInput(file_ + ": " + why + " adds an EOS token, but " +
                       (eos_text ? "its eos_token '" + *eos_text + "' is not a token of this tokenizer" : std::string("no eos_token is set")) +
                       " (fix eos_token, or set add_eos_token false)");
      return;
    }
    // The post-processor decides; its own tokens name BOS/EOS where tokenizer_config.json does not.
    add_bos_ = template_bos_.has_value();
    add_eos_ = template_eos_.has_value();
    if (template_bos_) bos_id_ = template_bos_;
    if (template_eos_) eos_id_ = template_eos_;
  }

  void encode_word(const std::string& word, std::vector<std::int32_t>& ids) const {
    // Most words repeat: a cache of short words' ids does most of the work on real text.
    constexpr std::size_t kCachedWordBytes = 64;
    if (word.size() > kCachedWordBytes) {
      model_->encode_word(word, ids);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      const auto it = cache_.find(word);
      if (it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const std::size_t start = ids.size();
    model_->encode_word(word, ids);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < 1'000'000) cache_.emplace(word, std::vector<std::int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.end()));
  }

  std::string file_;
  bool byte_level_ = false;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  AddedVocabulary added_;
  Decoder decoder_;
  std::optional<std::int32_t> template_bos_, template_eos_;
  std::unordered_map<std::int32_t, std::string> template_tokens_;
  std::unordered_map<std::string, std::int32_t> template_ids_;
  std::vector<const std::string*> token_of_;  // id -> token string (vocabulary or added token), null for none
  std::vector<bool> special_;                 // id -> an added token marked special
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_hf_tokenizer(const std::filesystem::path& tokenizer_json, const TokenizerConfig& cfg) {
  try {
    return std::make_unique<HfTokenizer>(tokenizer_json, cfg);
  } catch (const nlohmann::json::exception& e) {
    throw BadInput(tokenizer_json.string() + ": wrong JSON type in the tokenizer description: " + e.what());
  }
}

}  // namespace lmscope
