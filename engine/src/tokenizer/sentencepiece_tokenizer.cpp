// SentencePiece models (`tokenizer.model`: Llama 2, the fla-hub checkpoints) through the sentencepiece library
// itself, so normalisation, the dummy prefix and byte fallback are exactly the reference's.
#include <sentencepiece_processor.h>

#include "lmscope/error.h"
#include "tokenizer/tokenizer_config.h"
#include "tokenizer/tokenizers.h"

namespace lmscope {
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::filesystem::path& model, const TokenizerConfig& cfg) {
    const auto status = sp_.Load(model.string());
    if (!status.ok()) throw BadInput(model.string() + ": not a usable SentencePiece model: " + status.ToString());
    auto id_of = [&](const std::optional<std::string>& piece, int fallback) -> std::optional<std::int32_t> {
      const int id = piece ? sp_.PieceToId(*piece) : fallback;
      if (id < 0 || (piece && sp_.IdToPiece(id) != *piece)) return std::nullopt;  // unknown piece
      return id;
    };
    bos_id_ = id_of(cfg.bos_token, sp_.bos_id());
    eos_id_ = id_of(cfg.eos_token, sp_.eos_id());
    add_bos_ = cfg.add_bos_token.value_or(true);  // LlamaTokenizer's defaults
    add_eos_ = cfg.add_eos_token.value_or(false);
    // A BOS/EOS to be added whose piece is unknown would silently vanish from every sequence.
    if (add_bos_ && !bos_id_)
      throw BadInput(model.string() + ": BOS is to be added but bos_token '" + cfg.bos_token.value_or("(the model's own)") +
                     "' is not a piece of this model (fix tokenizer_config.json's bos_token, or set add_bos_token false)");
    if (add_eos_ && !eos_id_)
      throw BadInput(model.string() + ": EOS is to be added but eos_token '" + cfg.eos_token.value_or("(the model's own)") +
                     "' is not a piece of this model (fix tokenizer_config.json's eos_token, or set add_eos_token false)");
  }
  std::string kind() const override { return "sentencepiece"; }
  std::int64_t vocab_size() const override { return sp_.GetPieceSize(); }
  std::string decode(std::span<const std::int32_t> ids) const override {
    std::vector<int> v(ids.begin(), ids.end());
    for (int id : v)
      if (id < 0 || id >= sp_.GetPieceSize())
        throw BadInput("detokenize: id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(sp_.GetPieceSize()) + ")");
    std::string out;
    const auto status = sp_.Decode(v, &out);
    if (!status.ok()) throw BadInput("detokenize: " + status.ToString());
    return out;
  }

 protected:
  // Control pieces (<s>, </s>) are never produced from text by SentencePiece, which matches allow_special = false;
  // written-out control tokens are not matched even when allowed (the library has no such mode).
  std::vector<std::int32_t> encode_text(std::string_view text, bool) const override {
    std::vector<int> ids;
    const auto status = sp_.Encode(text, &ids);
    if (!status.ok()) throw BadInput("tokenize: " + status.ToString());
    return {ids.begin(), ids.end()};
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(const std::filesystem::path& model, const TokenizerConfig& cfg) {
  return std::make_unique<SentencePieceTokenizer>(model, cfg);
}

}  // namespace lmscope
