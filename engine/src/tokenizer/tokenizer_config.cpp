#include "tokenizer/tokenizer_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmscope/error.h"

namespace lmscope {
namespace {

nlohmann::json read_object(const std::filesystem::path& file) {
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
  return j;
}

// The tokenizer class transformers' AutoTokenizer takes for a model type when tokenizer_config.json names none
// (only the types whose class has its own BOS/EOS rule matter here).
std::optional<std::string> class_for_model_type(const std::string& type) {
  for (const char* t : {"llama", "mistral", "mixtral", "phi3", "code_llama"})
    if (type == t) return "LlamaTokenizerFast";
  for (const char* t : {"gemma", "gemma2", "gemma3", "gemma3_text"})
    if (type == t) return "GemmaTokenizerFast";
  for (const char* t : {"gpt_neox", "olmo", "olmo2"})
    if (type == t) return "GPTNeoXTokenizerFast";
  if (type == "cohere") return "CohereTokenizerFast";
  return std::nullopt;
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::filesystem::path& file) {
  TokenizerConfig c;
  const auto config = file.parent_path() / "config.json";
  if (std::filesystem::exists(config)) {
    const nlohmann::json j = read_object(config);
    if (j.contains("model_type") && j["model_type"].is_string()) c.model_type = j["model_type"].get<std::string>();
  }
  if (!std::filesystem::exists(file)) {
    if (c.model_type) c.tokenizer_class = class_for_model_type(*c.model_type);
    return c;
  }
  const nlohmann::json j = read_object(file);
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
  if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string()) c.tokenizer_class = j["tokenizer_class"].get<std::string>();
  else if (c.model_type) c.tokenizer_class = class_for_model_type(*c.model_type);
  return c;
}

}  // namespace lmscope
