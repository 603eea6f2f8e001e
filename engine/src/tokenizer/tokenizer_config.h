// tokenizer_config.json: the BOS/EOS rules a checkpoint ships with its tokenizer; config.json's model_type where
// the tokenizer class or lm-eval's Gemma rule needs it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace lmscope {

struct TokenizerConfig {
  std::optional<bool> add_bos_token, add_eos_token;
  std::optional<std::string> bos_token, eos_token;  // token texts
  // transformers' class name (e.g. "LlamaTokenizerFast"); when absent, the class transformers picks for the
  // folder's config.json model_type.
  std::optional<std::string> tokenizer_class;
  std::optional<std::string> model_type;  // config.json beside the tokenizer
};

// Reads `file` if it exists (all fields unset otherwise), and model_type from config.json in the same folder.
// BadInput naming the file and field for wrong types.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& file);

}  // namespace lmscope
