// Reading tokenizer.json components: every error names the file and the component, and anything this engine does
// not implement is refused by name rather than approximated.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace lmscope::hf {

using nlohmann::json;

// BadInput "<file>: '<component>': expected <expected>".
[[noreturn]] void fail(const std::string& file, const std::string& component, const std::string& expected);
// BadInput "<file>: <component> <what> is not supported<hint>".
[[noreturn]] void unsupported(const std::string& file, const std::string& component, const std::string& what,
                              const std::string& hint = "");
// The string "type" of a component object.
std::string type_of(const json& j, const std::string& file, const std::string& component);
// Optional typed fields: the default when absent or null, BadInput when of another type.
bool get_bool(const json& j, const char* key, bool fallback, const std::string& file, const std::string& component);
std::string get_string(const json& j, const char* key, const std::string& fallback, const std::string& file,
                       const std::string& component);

}  // namespace lmscope::hf
