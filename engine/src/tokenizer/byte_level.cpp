#include "tokenizer/byte_level.h"

#include <unordered_map>

#include "tokenizer/utf8.h"

namespace lmscope {
namespace {

// Printable Latin-1 bytes stand for themselves; the others (controls, space, 0x7F-0xA0, 0xAD) take code points
// from 256 upwards in byte order.
std::array<char32_t, 256> byte_code_points() {
  std::array<char32_t, 256> t{};
  char32_t extra = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : extra++;
  }
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_level_chars() {
  static const std::array<std::string, 256> chars = [] {
    std::array<std::string, 256> c;
    const auto cps = byte_code_points();
    for (std::size_t b = 0; b < 256; ++b) c[b] = utf8::encode(cps[b]);
    return c;
  }();
  return chars;
}

std::optional<std::string> byte_level_to_bytes(std::string_view token) {
  static const std::unordered_map<char32_t, unsigned char> reverse = [] {
    std::unordered_map<char32_t, unsigned char> r;
    const auto cps = byte_code_points();
    for (std::size_t b = 0; b < 256; ++b) r[cps[b]] = static_cast<unsigned char>(b);
    return r;
  }();
  std::string out;
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size();) {
    std::size_t len = 0;
    const char32_t cp = utf8::decode(token, i, len);
    const auto it = reverse.find(cp);
    if (it == reverse.end()) return std::nullopt;
    out += static_cast<char>(it->second);
    i += len;
  }
  return out;
}

}  // namespace lmscope
