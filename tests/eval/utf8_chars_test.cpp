// Characters as the charlevel metrics count them: well-formed UTF-8 sequences, and every other byte on its own.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval/utf8_chars.h"

namespace lmscope::eval {
namespace {

std::vector<std::size_t> lengths(const std::string& s) {
  std::vector<std::size_t> out;
  for (std::size_t at = 0; at < s.size();) {
    const auto n = char_length(s, at);
    out.push_back(n);
    at += n;
  }
  return out;
}

TEST(Utf8Chars, WellFormedSequencesAreOneCharacterEach) {
  // a, é (2 bytes), € (3), 𝄞 (4), z
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9Ez";
  EXPECT_EQ(lengths(s), (std::vector<std::size_t>{1, 2, 3, 4, 1}));
  EXPECT_EQ(count_chars(s), 5u);
  EXPECT_EQ(char_starts(s), (std::vector<std::size_t>{0, 1, 3, 6, 10}));
}

TEST(Utf8Chars, EveryByteOutsideAWellFormedSequenceIsACharacter) {
  // a stray continuation byte, an overlong "/" (C0 AF), a surrogate (ED A0 80), a code point above U+10FFFF
  // (F4 90 80 80), a lead byte cut off by ASCII, and a sequence cut off by the end of the text
  const std::string s = "\x80" "\xC0\xAF" "\xED\xA0\x80" "\xF4\x90\x80\x80" "\xE2" "A" "\xE2\x82";
  EXPECT_EQ(lengths(s), std::vector<std::size_t>(s.size(), 1));
  EXPECT_EQ(count_chars(s), s.size());
}

TEST(Utf8Chars, GeneratedBytesCountOnlyFinishedCharacters) {
  // A generated stream may end inside a character that the next byte could still complete.
  EXPECT_EQ(finished_chars("ab"), 2u);
  EXPECT_EQ(finished_chars("a\xE2\x82"), 1u);      // € not finished yet
  EXPECT_EQ(finished_chars("a\xE2\x82\xAC"), 2u);  // now it is
  EXPECT_EQ(finished_chars("a\xE2" "b"), 3u);      // a lead byte that can no longer be completed is a character
  EXPECT_EQ(finished_chars("\xED"), 0u);           // could still become a valid (non-surrogate) character
  EXPECT_EQ(finished_chars("\xED\xA0"), 2u);       // cannot: a surrogate
  EXPECT_EQ(finished_chars("\xF4\x90"), 2u);       // cannot: above U+10FFFF
  EXPECT_EQ(finished_chars("\xC1"), 1u);           // C0/C1 never start a character
}

}  // namespace
}  // namespace lmscope::eval
