#include "lmscope/tokenizer.h"

namespace lmscope {

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& o) const {
  std::vector<std::int32_t> ids;
  const bool bos = o.add_bos.value_or(add_bos_), eos = o.add_eos.value_or(add_eos_);
  if (bos && bos_id_) ids.push_back(*bos_id_);
  const auto body = encode_text(text, o.allow_special);
  ids.insert(ids.end(), body.begin(), body.end());
  if (eos && eos_id_) ids.push_back(*eos_id_);
  return ids;
}

std::string Tokenizer::decode_skipping_special(std::span<const std::int32_t> ids) const {
  std::vector<std::int32_t> kept;
  kept.reserve(ids.size());
  for (auto id : ids)
    if (!is_special(id)) kept.push_back(id);
  return decode(kept);
}

std::size_t complete_utf8_prefix(std::string_view s) {
  // Look back at most 3 bytes for the start of a sequence that runs past the end.
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    const std::size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return back < need ? n - back : n;
  }
  return n;  // only continuation bytes: not ours to hold back
}

std::string StreamDecoder::push(std::int32_t id) {
  ids_.push_back(id);
  const std::string text = t_.decode(ids_);
  const std::size_t ready = complete_utf8_prefix(text);
  if (ready <= emitted_) return {};
  std::string out = text.substr(emitted_, ready - emitted_);
  emitted_ = ready;
  return out;
}

std::string StreamDecoder::flush() {
  const std::string text = t_.decode(ids_);
  std::string out = emitted_ < text.size() ? text.substr(emitted_) : std::string();
  emitted_ = text.size();
  return out;
}

}  // namespace lmscope
