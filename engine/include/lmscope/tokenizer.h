// Tokenizers as checkpoints ship them: Hugging Face `tokenizer.json` with a BPE model (byte-level: Llama 3, Qwen,
// GPT-NeoX, OLMo 2, SmolLM; SentencePiece-style with byte fallback: Llama 2, Mistral, Phi-3, Gemma),
// SentencePiece `tokenizer.model` (through the sentencepiece library), and plain UTF-8 bytes for character-level
// models. Encoding reproduces the reference libraries token for token; configurations that are
// not implemented are refused naming the component, never approximated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmscope {

struct EncodeOptions {
  // Unset: the tokenizer's own rule (tokenizer_config.json / the post-processor). lm-eval's rolling windows, for
  // one, encode without special tokens and put the prefix token in themselves.
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  // Whether special tokens written in the text (e.g. "<|begin_of_text|>") become their ids. Off: they are
  // tokenised as the plain text they are. Added tokens that are not special (Gemma's "\n\n", GPT-NeoX's space
  // runs, Qwen's <tool_call>) are always matched, as the reference library matches them.
  bool allow_special = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // "sentencepiece", "byte-level BPE", "BPE" (tokenizer.json without ByteLevel), "bytes"
  virtual std::string kind() const = 0;
  virtual std::int64_t vocab_size() const = 0;
  std::vector<std::int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // The text of the ids (bytes of byte-level tokens concatenated; may end in an incomplete UTF-8 sequence).
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;
  // Whether id is a special token (tokenizer.json's added tokens marked special: BOS, EOS, chat markers, ...).
  virtual bool is_special(std::int32_t) const { return false; }
  // decode without the special tokens, as transformers' decode(skip_special_tokens=True) and so lm-eval's
  // generated answers. SentencePiece drops its control pieces in decode() already.
  std::string decode_skipping_special(std::span<const std::int32_t> ids) const;

  std::optional<std::int32_t> bos_id() const { return bos_id_; }
  std::optional<std::int32_t> eos_id() const { return eos_id_; }
  bool adds_bos() const { return add_bos_; }
  bool adds_eos() const { return add_eos_; }
  // config.json's model_type beside the tokenizer, when there is one.
  const std::optional<std::string>& model_type() const { return model_type_; }
  // lm-evaluation-harness encodes without special tokens, except for Gemma model types, where it forces
  // add_bos_token (add_special_tokens=True: the tokenizer's own BOS/EOS rule) because Gemma does badly without
  // BOS. Evaluation asks this to do the same.
  bool lm_eval_adds_special_tokens() const { return model_type_ && lm_eval_forces_bos(*model_type_); }
  // lm-eval's test: "gemma" anywhere in the model type (gemma, gemma2, gemma3, recurrent_gemma, ...).
  static bool lm_eval_forces_bos(std::string_view model_type) { return model_type.find("gemma") != std::string_view::npos; }

 protected:
  friend std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);
  // The ids of the text alone, no BOS/EOS.
  virtual std::vector<std::int32_t> encode_text(std::string_view text, bool allow_special) const = 0;
  std::optional<std::int32_t> bos_id_, eos_id_;
  bool add_bos_ = false, add_eos_ = false;
  std::optional<std::string> model_type_;
};

// Turns ids into text one at a time for generation: returns the newly completed text, holding back a trailing
// incomplete UTF-8 sequence until the token that completes it arrives.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& t) : t_(t) {}
  std::string push(std::int32_t id);
  // Whatever is held back (at the end of generation).
  std::string flush();

 private:
  const Tokenizer& t_;
  std::vector<std::int32_t> ids_;
  std::size_t emitted_ = 0;  // bytes of decode(ids_) already returned
};

// From a model folder or a tokenizer file. A folder's tokenizer.json is preferred to its tokenizer.model when it
// has both, as transformers' AutoTokenizer loads the fast tokenizer (tokenizer.json) by default;
// tokenizer_config.json and config.json beside either set the BOS/EOS rules. BadInput naming the file and
// component when it cannot be used.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);
// Ids are UTF-8 bytes (0..255); bos/eos are ids the model reserves for them, if any (added only on request).
std::unique_ptr<Tokenizer> make_byte_tokenizer(std::optional<std::int32_t> bos = std::nullopt,
                                               std::optional<std::int32_t> eos = std::nullopt);

// Length of the longest prefix of s that ends on a complete UTF-8 sequence.
std::size_t complete_utf8_prefix(std::string_view s);

}  // namespace lmscope
