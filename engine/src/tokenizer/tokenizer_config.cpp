#include "tokenizer/tokenizer_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmscope/error.h"

namespace lmscope {

TokenizerConfig read_tokenizer_config(const std::filesystem::path& file) {
  TokenizerConfig c;
  if (!std::filesystem::exists(file)) return c;
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw BadInput(file.string() + ": not well-formed JSON: " + e.what());
  }
  if (!j.is_object()) throw BadInput(file.string() + ": expected a JSON object");
  auto flag = [&](const char* key) -> std::optional<bool> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_boolean()) throw BadInput(file.string() + ": field '" + key + "': expected true or false, got " + j[key].dump());
    return j[key].get<bool>();
  };
  // A token is written as its text, or as an object {"content": text, ...} (AddedToken).
  auto token = [&](const char* key) -> std::optional<std::string> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    const auto& v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    throw BadInput(file.string() + ": field '" + key + "': expected a token string or {\"content\": ...}, got " + v.dump());
  };
  c.add_bos_token = flag("add_bos_token");
  c.add_eos_token = flag("add_eos_token");
  c.bos_token = token("bos_token");
  c.eos_token = token("eos_token");
  return c;
}

}  // namespace lmscope
