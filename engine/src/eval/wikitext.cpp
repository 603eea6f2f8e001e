#include "lmscope/eval/wikitext.h"

namespace lmscope::eval {
namespace {

// Python str.replace: every non-overlapping occurrence, left to right.
std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// Decodes the UTF-8 sequence at s[i] (invalid bytes decode as themselves); returns its length.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0 && cont(1)) {
    cp = (static_cast<char32_t>(b & 0x1F) << 6) | (s[i + 1] & 0x3F);
    return 2;
  }
  if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    cp = (static_cast<char32_t>(b & 0x0F) << 12) | (static_cast<char32_t>(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    return 3;
  }
  if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    cp = (static_cast<char32_t>(b & 0x07) << 18) | (static_cast<char32_t>(s[i + 1] & 0x3F) << 12) |
         (static_cast<char32_t>(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
    return 4;
  }
  cp = 0xFFFD;
  return 1;
}

// Length of the run of whitespace code points starting at byte i.
std::size_t whitespace_run(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size()) {
    char32_t cp;
    const std::size_t n = decode_utf8(s, j, cp);
    if (!is_python_whitespace(cp)) break;
    j += n;
  }
  return j - i;
}

// Byte length of the whitespace suffix of s.
std::size_t trailing_whitespace(std::string_view s) {
  // Walk forward remembering where the last non-whitespace code point ended.
  std::size_t end_of_text = 0, i = 0;
  while (i < s.size()) {
    char32_t cp;
    const std::size_t n = decode_utf8(s, i, cp);
    i += n;
    if (!is_python_whitespace(cp)) end_of_text = i;
  }
  return s.size() - end_of_text;
}

// re.sub(open \s*([^close]*?)\s* close, open \1 close): trims whitespace just inside each pair, scanning left to
// right; a match never crosses a `close` character, and an opener without a later closer is left alone.
std::string trim_inside_pairs(const std::string& s, char open, char close) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == open) {
      const std::size_t end = s.find(close, i + 1);
      if (end != std::string::npos) {
        std::string_view inner(s.data() + i + 1, end - i - 1);
        const std::size_t lead = whitespace_run(inner, 0);
        inner.remove_prefix(lead);
        inner.remove_suffix(trailing_whitespace(inner));
        out += open;
        out.append(inner);
        out += close;
        i = end + 1;
        continue;
      }
    }
    out += s[i];
    ++i;
  }
  return out;
}

// re.sub(r"/' [0-9]/", r"/'[0-9]/", s): the replacement is the literal text "/'[0-9]/".
std::string slash_quote_digit(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 5 <= s.size() && s.compare(i, 3, "/' ") == 0 && s[i + 3] >= '0' && s[i + 3] <= '9' && s[i + 4] == '/') {
      out += "/'[0-9]/";
      i += 5;
    } else {
      out += s[i++];
    }
  }
  return out;
}

}  // namespace

bool is_python_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string wikitext_detokenize(std::string_view page) {
  std::string s(page);
  s = replace_all(s, "s '", "s'");
  s = slash_quote_digit(s);
  s = replace_all(s, " @-@ ", "-");
  s = replace_all(s, " @,@ ", ",");
  s = replace_all(s, " @.@ ", ".");
  for (const char* p : {" : ", " ; ", " . ", " ! ", " ? ", " , "}) {
    const std::string from(p);
    s = replace_all(s, from, from.substr(1));
  }
  s = trim_inside_pairs(s, '(', ')');
  s = trim_inside_pairs(s, '[', ']');
  s = trim_inside_pairs(s, '{', '}');
  s = trim_inside_pairs(s, '"', '"');
  s = trim_inside_pairs(s, '\'', '\'');
  s = replace_all(s, "= = = =", "====");
  s = replace_all(s, "= = =", "===");
  s = replace_all(s, "= =", "==");
  s = replace_all(s, " \u00B0 ", "\u00B0");
  s = replace_all(s, " \n", "\n");
  s = replace_all(s, "\n ", "\n");
  s = replace_all(s, " N ", " 1 ");
  s = replace_all(s, " 's", "'s");
  return s;
}

std::int64_t count_words_like_lm_eval(std::string_view page) {
  std::int64_t runs = 0;
  std::size_t i = 0;
  while (i < page.size()) {
    const std::size_t w = whitespace_run(page, i);
    if (w > 0) {
      ++runs;
      i += w;
    } else {
      char32_t cp;
      i += decode_utf8(page, i, cp);
    }
  }
  return runs + 1;
}

std::vector<std::string> split_wikitext_documents(std::string_view raw) {
  auto is_heading = [](std::string_view line) {
    // " = Title = " : starts with " = " followed by a non-'=' character, ends with " = "
    return line.size() >= 7 && line.substr(0, 3) == " = " && line[3] != '=' && line.substr(line.size() - 3) == " = ";
  };
  std::vector<std::string> docs;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t nl = raw.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    const std::string_view line = raw.substr(pos, (nl == std::string_view::npos ? raw.size() : nl) - pos);
    if (is_heading(line) || docs.empty()) docs.emplace_back();
    docs.back().append(raw.substr(pos, end - pos));
    pos = end;
  }
  return docs;
}

}  // namespace lmscope::eval
