// WikiText-2 as lm-evaluation-harness 0.4.9.1 scores it (task `wikitext`): the detokeniser applied before
// tokenisation, and word/byte counts taken from the ORIGINAL page (see ../shared/docs/eval-spec.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmscope::eval {

// lm-eval's wikitext_detokenizer: its ordered plain replacements and bracket/quote trimming, reproduced
// exactly (including the pattern "/' [0-9]/" that only ever matches itself literally).
std::string wikitext_detokenize(std::string_view page);

// len(re.split(r"\s+", page)) in Python: 1 + the number of maximal runs of Unicode whitespace (so leading or
// trailing whitespace counts an empty word, as lm-eval does).
std::int64_t count_words_like_lm_eval(std::string_view page);

// The raw test file split into documents at top-level headings (lines " = Title = "), each document its heading
// line plus the lines up to the next heading, newlines kept.
std::vector<std::string> split_wikitext_documents(std::string_view raw);

// Python's str.isspace() for one code point (what `\s` matches in a str regex).
bool is_python_whitespace(char32_t c);

}  // namespace lmscope::eval
