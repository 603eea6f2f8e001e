// Character-level models read UTF-8 bytes: id = byte value.
#include "lmscope/tokenizer.h"

namespace lmscope {
namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  ByteTokenizer(std::optional<std::int32_t> bos, std::optional<std::int32_t> eos) {
    bos_id_ = bos;
    eos_id_ = eos;
  }
  std::string kind() const override { return "bytes"; }
  std::int64_t vocab_size() const override { return 256; }
  std::string decode(std::span<const std::int32_t> ids) const override {
    std::string s;
    s.reserve(ids.size());
    for (auto id : ids)
      if (id >= 0 && id < 256) s += static_cast<char>(id);  // ids outside the byte range (BOS/EOS) carry no text
    return s;
  }

 protected:
  std::vector<std::int32_t> encode_text(std::string_view text, bool) const override {
    std::vector<std::int32_t> ids(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
    return ids;
  }
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer(std::optional<std::int32_t> bos, std::optional<std::int32_t> eos) {
  return std::make_unique<ByteTokenizer>(bos, eos);
}

}  // namespace lmscope
