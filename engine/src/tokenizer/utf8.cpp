#include "tokenizer/utf8.h"

namespace lmscope::utf8 {

bool valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = sequence_length(b);
    if (n == 1 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    std::size_t len = 0;
    const char32_t cp = decode(s, i, len);
    // overlong forms, surrogates and code points past U+10FFFF are not UTF-8
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF)
      return false;
    i += n;
  }
  return true;
}

}  // namespace lmscope::utf8
