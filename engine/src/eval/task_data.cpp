#include "eval/task_data.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "lmscope/error.h"

namespace lmscope::eval {

std::filesystem::path data_path(const nlohmann::json& settings, const std::string& key, const std::string& task,
                                const std::string& base_dir, const std::string& what_it_is) {
  if (!settings.contains(key) || !settings[key].is_string() || settings[key].get<std::string>().empty())
    throw BadInput("task " + task + ": field '" + key + "' is required: the path of " + what_it_is);
  std::filesystem::path p = settings[key].get<std::string>();
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  if (!std::filesystem::is_regular_file(p))
    throw BadInput("task " + task + ": " + key + " '" + p.string() + "' is not a readable file (expected " +
                   what_it_is + ")");
  return p;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(path.string() + ": cannot open");
  std::vector<nlohmann::json> out;
  std::string line;
  std::int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      throw BadInput(path.string() + ":" + std::to_string(n) + ": not a JSON object (" + e.what() + ")");
    }
    if (!out.back().is_object())
      throw BadInput(path.string() + ":" + std::to_string(n) + ": expected a JSON object per line");
  }
  return out;
}

std::vector<std::string> read_documents(const std::filesystem::path& path, const std::string& field) {
  const auto ext = path.extension().string();
  std::vector<std::string> docs;
  auto take = [&](const nlohmann::json& r, const std::string& where) {
    if (r.is_string()) return docs.push_back(r.get<std::string>());
    if (!r.is_object() || !r.contains(field) || !r[field].is_string())
      throw BadInput(where + ": expected a string field '" + field + "'");
    docs.push_back(r[field].get<std::string>());
  };
  if (ext == ".jsonl") {
    auto rows = read_jsonl(path);
    for (std::size_t i = 0; i < rows.size(); ++i) take(rows[i], path.string() + " record " + std::to_string(i + 1));
  } else if (ext == ".json") {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw BadInput(path.string() + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_array()) throw BadInput(path.string() + ": expected a JSON array of documents");
    for (std::size_t i = 0; i < j.size(); ++i) take(j[i], path.string() + " item " + std::to_string(i + 1));
  } else {
    docs.push_back(read_text_file(path));
  }
  return docs;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && n == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
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

std::string fnv1a64_hex(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string file_hash(const std::filesystem::path& path) { return fnv1a64_hex(read_text_file(path)); }

namespace {
const nlohmann::json* find(const nlohmann::json& s, const std::string& key) {
  if (!s.is_object() || !s.contains(key) || s[key].is_null()) return nullptr;
  return &s[key];
}
[[noreturn]] void bad(const std::string& task, const std::string& key, const std::string& expected,
                      const nlohmann::json& got) {
  throw BadInput("task " + task + ": field '" + key + "' must be " + expected + ", got " + got.dump());
}
}  // namespace

std::int64_t setting_int(const nlohmann::json& s, const std::string& key, std::int64_t fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (!v->is_number_integer()) bad(task, key, "an integer", *v);
  return v->get<std::int64_t>();
}

double setting_double(const nlohmann::json& s, const std::string& key, double fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (!v->is_number()) bad(task, key, "a number", *v);
  return v->get<double>();
}

std::vector<std::int64_t> setting_int_list(const nlohmann::json& s, const std::string& key,
                                           std::vector<std::int64_t> fallback, const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return {v->get<std::int64_t>()};
  if (!v->is_array() || v->empty()) bad(task, key, "a non-empty list of integers", *v);
  std::vector<std::int64_t> out;
  for (const auto& x : *v) {
    if (!x.is_number_integer()) bad(task, key, "a non-empty list of integers", *v);
    out.push_back(x.get<std::int64_t>());
  }
  return out;
}

std::vector<double> setting_double_list(const nlohmann::json& s, const std::string& key, std::vector<double> fallback,
                                        const std::string& task) {
  const auto* v = find(s, key);
  if (!v) return fallback;
  if (v->is_number()) return {v->get<double>()};
  if (!v->is_array() || v->empty()) bad(task, key, "a non-empty list of numbers", *v);
  std::vector<double> out;
  for (const auto& x : *v) {
    if (!x.is_number()) bad(task, key, "a non-empty list of numbers", *v);
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
