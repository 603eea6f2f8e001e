// What the charlevel metrics call a character. A byte-level model reads any bytes, so the count must be defined for
// text that is not valid UTF-8 too (a byte-range split such as enwik8's can cut a character in two): each well-formed
// UTF-8 sequence (shortest form, no surrogates, at most U+10FFFF) is one character, and every byte that is not part
// of one is a character on its own — what a decoder that shows each bad byte as U+FFFD displays. On valid UTF-8 the
// count is the number of Unicode code points.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace lmscope::eval {

// Bytes of the character starting at s[at] (1 to 4).
std::size_t char_length(std::string_view s, std::size_t at);
std::size_t count_chars(std::string_view s);
// Byte offset of every character, in order.
std::vector<std::size_t> char_starts(std::string_view s);
// Characters of a stream still being generated: like count_chars, except that a tail the next bytes could still
// complete into a well-formed sequence is not counted yet.
std::size_t finished_chars(std::string_view s);
// Offset of the first byte that is not part of a well-formed sequence, ignoring a character cut off at either end
// (a byte-range excerpt); npos when there is none.
std::size_t first_invalid_byte(std::string_view s);

}  // namespace lmscope::eval
