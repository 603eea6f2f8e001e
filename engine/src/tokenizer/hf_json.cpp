#include "tokenizer/hf_json.h"

#include "lmscope/error.h"

namespace lmscope::hf {

void fail(const std::string& file, const std::string& component, const std::string& expected) {
  throw BadInput(file + ": '" + component + "': expected " + expected);
}

void unsupported(const std::string& file, const std::string& component, const std::string& what, const std::string& hint) {
  throw BadInput(file + ": " + component + " " + what + " is not supported" + hint);
}

std::string type_of(const json& j, const std::string& file, const std::string& component) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(file, component, "an object with a string 'type'");
  return j["type"].get<std::string>();
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& file, const std::string& component) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) fail(file, component + "." + key, "true or false, got " + j[key].dump());
  return j[key].get<bool>();
}

std::string get_string(const json& j, const char* key, const std::string& fallback, const std::string& file,
                       const std::string& component) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) fail(file, component + "." + key, "a string, got " + j[key].dump());
  return j[key].get<std::string>();
}

}  // namespace lmscope::hf
