#include "eval/utf8_chars.h"

namespace lmscope::eval {
namespace {

// > 0: a well-formed sequence of that many bytes starts at s[at]; 0: the bytes up to the end of s begin one but it
// is cut off; -1: no well-formed sequence starts here.
int match(std::string_view s, std::size_t at) {
  const auto c = static_cast<unsigned char>(s[at]);
  if (c < 0x80) return 1;
  int n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode table 3-7)
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return -1;
  }
  for (int k = 1; k < n; ++k) {
    if (at + static_cast<std::size_t>(k) >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[at + static_cast<std::size_t>(k)]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return -1;
  }
  return n;
}

}  // namespace

std::size_t char_length(std::string_view s, std::size_t at) {
  const int n = match(s, at);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

std::size_t count_chars(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < s.size(); at += char_length(s, at)) ++n;
  return n;
}

std::vector<std::size_t> char_starts(std::string_view s) {
  std::vector<std::size_t> out;
  for (std::size_t at = 0; at < s.size(); at += char_length(s, at)) out.push_back(at);
  return out;
}

std::size_t finished_chars(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < s.size(); ++n) {
    const int m = match(s, at);
    if (m == 0) break;
    at += m > 0 ? static_cast<std::size_t>(m) : 1;
  }
  return n;
}

std::size_t first_invalid_byte(std::string_view s) {
  std::size_t at = 0;
  // continuation bytes of a character that began before the excerpt
  while (at < s.size() && at < 3 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
  while (at < s.size()) {
    const int n = match(s, at);
    if (n == 0) return std::string_view::npos;  // cut off at the end
    if (n < 0) return at;
    at += static_cast<std::size_t>(n);
  }
  return std::string_view::npos;
}

}  // namespace lmscope::eval
