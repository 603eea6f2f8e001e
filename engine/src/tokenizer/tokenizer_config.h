// tokenizer_config.json: the BOS/EOS rules a checkpoint ships with its tokenizer.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace lmscope {

struct TokenizerConfig {
  std::optional<bool> add_bos_token, add_eos_token;
  std::optional<std::string> bos_token, eos_token;  // token texts
};

// Reads `file` if it exists (all fields unset otherwise). BadInput naming the file and field for wrong types.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& file);

}  // namespace lmscope
