#include "eval/task_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "parallel_for.h"
#include "eval/utf8_chars.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"

namespace lmscope::eval {

std::filesystem::path data_path(const nlohmann::json& settings, const std::string& key, const std::string& task,
                                const std::string& base_dir, const std::string& what_it_is) {
  if (!settings.contains(key) || !settings[key].is_string() || settings[key].get<std::string>().empty())
    throw BadInput("task " + task + ": field '" + key + "' is required: the path of " + what_it_is);
  std::filesystem::path p = settings[key].get<std::string>();
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    const auto kind = non_regular_kind(p);
    throw BadInput("task " + task + ": " + key + " '" + p.string() + "' is " +
                   (kind.empty() ? std::string("not a readable file") : kind + ", not a regular file") + " (expected " +
                   what_it_is + ")");
  }
  return p;
}

std::string read_text_file(const std::filesystem::path& path) {
  auto text = read_input_file(path, "a data file", kMaxTextFileBytes);
  // A binary file or a text in another encoding would be tokenised into nonsense and give a perplexity that looks
  // like a result: refuse it, saying where.
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    throw BadInput("data file " + path.string() + " holds a NUL byte at offset " + std::to_string(nul) +
                   ": it is a binary file, not text (expected UTF-8 text, JSONL or JSON)");
  if (const auto bad = first_invalid_byte(text); bad != std::string_view::npos) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
    throw BadInput("data file " + path.string() + " is not UTF-8 text: byte " + byte + " at offset " +
                   std::to_string(bad) + " is not part of a UTF-8 character (another encoding such as Latin-1? "
                   "convert it, e.g. iconv -f latin1 -t utf-8)");
  }
  return text;
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) { return parse_jsonl(read_text_file(path), path); }

std::vector<nlohmann::json> parse_jsonl(std::string_view text, const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::size_t at = 0;
  for (std::int64_t n = 1; at < text.size(); ++n) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    out.push_back(parse_json_input(line, path.string() + ":" + std::to_string(n)));
    if (!out.back().is_object())
      throw BadInput(path.string() + ":" + std::to_string(n) + ": expected a JSON object per line");
  }
  return out;
}

std::vector<std::string> read_documents(const std::filesystem::path& path, const std::string& field) {
  return documents_from_text(read_text_file(path), path, field);
}

std::vector<std::string> documents_from_text(std::string_view text, const std::filesystem::path& path,
                                             const std::string& field) {
  const auto ext = path.extension().string();
  std::vector<std::string> docs;
  auto take = [&](const nlohmann::json& r, const std::string& where) {
    if (r.is_string()) return docs.push_back(r.get<std::string>());
    if (!r.is_object() || !r.contains(field) || !r[field].is_string())
      throw BadInput(where + ": expected a string field '" + field + "'");
    docs.push_back(r[field].get<std::string>());
  };
  if (ext == ".jsonl") {
    auto rows = parse_jsonl(text, path);
    for (std::size_t i = 0; i < rows.size(); ++i) take(rows[i], path.string() + " record " + std::to_string(i + 1));
  } else if (ext == ".json") {
    const nlohmann::json j = parse_json_input(text, path.string());
    if (!j.is_array()) throw BadInput(path.string() + ": expected a JSON array of documents");
    for (std::size_t i = 0; i < j.size(); ++i) take(j[i], path.string() + " item " + std::to_string(i + 1));
  } else {
    docs.emplace_back(text);
  }
  return docs;
}

std::vector<std::int32_t> encode_plain(const Tokenizer& tokenizer, std::string_view text) {
  EncodeOptions o;
  o.add_bos = false;
  o.add_eos = false;
  return tokenizer.encode(text, o);
}

std::vector<std::int32_t> encode_as_lm_eval(const Tokenizer& tokenizer, std::string_view text) {
  if (!tokenizer.lm_eval_adds_special_tokens()) return encode_plain(tokenizer, text);
  return tokenizer.encode(text, EncodeOptions{});
}

std::vector<std::vector<std::int32_t>> encode_documents(const Tokenizer& tokenizer, const std::vector<std::string>& docs,
                                                        std::optional<std::int32_t> prefix) {
  std::vector<std::vector<std::int32_t>> out(docs.size());
  parallel_for(docs.size(), [&](std::size_t i) {
    out[i] = encode_plain(tokenizer, docs[i]);
    if (prefix) out[i].insert(out[i].begin(), *prefix);
  });
  return out;
}

namespace {
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
std::uint64_t fnv1a64(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
std::string hex16(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

std::string fnv1a64_hex(std::string_view bytes) { return hex16(fnv1a64(kFnvOffset, bytes)); }

std::string documents_hash(const std::vector<std::string>& docs) {
  std::uint64_t h = kFnvOffset;
  for (const auto& d : docs) h = fnv1a64(h, d);
  return hex16(h);
}

std::string file_hash(const std::filesystem::path& path) { return fnv1a64_hex(read_text_file(path)); }

std::string file_bytes_hash(const std::filesystem::path& path, const std::string& what) {
  return fnv1a64_hex(read_input_file(path, what, kMaxTextFileBytes));
}

namespace {
const nlohmann::json* find(const nlohmann::json& s, const std::string& key) {
  if (!s.is_object() || !s.contains(key) || s[key].is_null()) return nullptr;
  return &s[key];
}
[[noreturn]] void bad(const std::string& task, const std::string& key, const std::string& expected,
                      const nlohmann::json& got) {
  throw BadInput("task " + task + ": field '" + key + "' must be " + expected + ", got " + dump_json(got));
}
}  // namespace

std::int64_t setting_int(const nlohmann::json& s, const std::string& key, std::int64_t fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
    bad(task, key, "an integer", *v);
  return v->get<std::int64_t>();
}

std::int64_t setting_int_in(const nlohmann::json& s, const std::string& key, std::int64_t fallback, std::int64_t lo,
                            std::int64_t hi, const std::string& task) {
  const auto v = setting_int(s, key, fallback, task);
  if (v < lo || v > hi)
    bad(task, key, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi), *find(s, key));
  return v;
}

std::vector<std::int64_t> setting_int_list_in(const nlohmann::json& s, const std::string& key,
                                              std::vector<std::int64_t> fallback, std::int64_t lo, std::int64_t hi,
                                              const std::string& task) {
  auto v = setting_int_list(s, key, std::move(fallback), task);
  for (const auto x : v)
    if (x < lo || x > hi)
      bad(task, key, "integers from " + std::to_string(lo) + " to " + std::to_string(hi), *find(s, key));
  return v;
}

double setting_double(const nlohmann::json& s, const std::string& key, double fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (!v->is_number() || !std::isfinite(v->get<double>())) bad(task, key, "a finite number", *v);
  return v->get<double>();
}

std::vector<std::int64_t> setting_int_list(const nlohmann::json& s, const std::string& key,
                                           std::vector<std::int64_t> fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
    return {v->get<std::int64_t>()};
  if (!v->is_array() || v->empty()) bad(task, key, "a non-empty list of integers", *v);
  std::vector<std::int64_t> out;
  for (const auto& x : *v) {
    if (!x.is_number_integer() || (x.is_number_unsigned() && x.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
      bad(task, key, "a non-empty list of integers", *v);
    out.push_back(x.get<std::int64_t>());
  }
  return out;
}

std::vector<double> setting_double_list(const nlohmann::json& s, const std::string& key, std::vector<double> fallback,
                                        const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (v->is_number() && std::isfinite(v->get<double>())) return {v->get<double>()};
  if (!v->is_array() || v->empty()) bad(task, key, "a non-empty list of finite numbers", *v);
  std::vector<double> out;
  for (const auto& x : *v) {
    if (!x.is_number() || !std::isfinite(x.get<double>())) bad(task, key, "a non-empty list of finite numbers", *v);
    out.push_back(x.get<double>());
  }
  return out;
}

std::string setting_string(const nlohmann::json& s, const std::string& key, const std::string& fallback,
                           const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (!v->is_string()) bad(task, key, "a string", *v);
  return v->get<std::string>();
}

void check_known_settings(const nlohmann::json& s, const std::vector<std::string>& known, const std::string& task) {
  if (!s.is_object()) throw BadInput("task " + task + ": settings must be a JSON object");
  for (const auto& [k, v] : s.items())
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      throw BadInput("task " + task + ": unknown field '" + k + "' (known: " + list + ")");
    }
}

}  // namespace lmscope::eval
