// Parsing JSON that comes from outside (config.json, safetensors headers, run specs, worker requests, data lines).
// Stricter than JSON itself, because each of these is ambiguous or dangerous downstream: a duplicated key (which
// value wins?), nesting deeper than any real file (recursive copies and dumps would exhaust the stack), and a
// number too large for a double (1e400). Every problem is a BadInput naming the source.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lmscope {

// Deeper than any configuration, header, spec or request lmscope reads (they nest a few levels).
constexpr int kMaxJsonDepth = 64;

// `where` names the source in messages ("config.json", "request line 3", ...).
nlohmann::json parse_json_input(std::string_view text, const std::string& where, int max_depth = kMaxJsonDepth);

// j as JSON text; strings that are not valid UTF-8 (a path with Latin-1 bytes) have their bad bytes replaced by
// U+FFFD instead of failing the whole output.
std::string dump_json(const nlohmann::json& j, int indent = -1);

// Where j holds a number that is NaN or infinite ("" when none): a JSON path such as "trials[3].logprob".
std::string find_nonfinite_number(const nlohmann::json& j);

// The text with every invalid UTF-8 sequence replaced by U+FFFD, for JSON output of text we did not write
// (paths, generated text): JSON strings must be valid UTF-8.
std::string valid_utf8(std::string_view s);

}  // namespace lmscope
