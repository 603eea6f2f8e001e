// Tokenizers as checkpoints ship them: SentencePiece `tokenizer.model` (through the sentencepiece library),
// Hugging Face `tokenizer.json` with a byte-level BPE model (Llama 3, GPT-2, Qwen style), and plain UTF-8 bytes for
// character-level models. Encoding reproduces the reference libraries token for token; configurations that are
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
  // Whether special/added tokens written in the text (e.g. "<|begin_of_text|>") become their ids. Off: they are
  // tokenised as the plain text they are.
  bool allow_special = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // "sentencepiece", "byte-level BPE", "bytes"
  virtual std::string kind() const = 0;
  virtual std::int64_t vocab_size() const = 0;
  std::vector<std::int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // The text of the ids (bytes of byte-level tokens concatenated; may end in an incomplete UTF-8 sequence).
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;

  std::optional<std::int32_t> bos_id() const { return bos_id_; }
  std::optional<std::int32_t> eos_id() const { return eos_id_; }
  bool adds_bos() const { return add_bos_; }
  bool adds_eos() const { return add_eos_; }

 protected:
  // The ids of the text alone, no BOS/EOS.
  virtual std::vector<std::int32_t> encode_text(std::string_view text, bool allow_special) const = 0;
  std::optional<std::int32_t> bos_id_, eos_id_;
  bool add_bos_ = false, add_eos_ = false;
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

// From a model folder (tokenizer.model preferred — Llama 2 style folders ship both and their tokenizer.json is not
// byte-level BPE —, else tokenizer.json; tokenizer_config.json beside either sets BOS/EOS rules), or from a
// tokenizer file. BadInput naming the file and component when it cannot be used.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);
// Ids are UTF-8 bytes (0..255); bos/eos are ids the model reserves for them, if any (added only on request).
std::unique_ptr<Tokenizer> make_byte_tokenizer(std::optional<std::int32_t> bos = std::nullopt,
                                               std::optional<std::int32_t> eos = std::nullopt);

// Length of the longest prefix of s that ends on a complete UTF-8 sequence.
std::size_t complete_utf8_prefix(std::string_view s);

}  // namespace lmscope
