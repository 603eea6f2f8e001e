// Constructors of the tokenizer kinds (internal; load_tokenizer picks one).
#pragma once

#include <filesystem>
#include <memory>

#include "lmscope/tokenizer.h"
#include "tokenizer/tokenizer_config.h"

namespace lmscope {

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(const std::filesystem::path& model, const TokenizerConfig& cfg);
std::unique_ptr<Tokenizer> make_hf_tokenizer(const std::filesystem::path& tokenizer_json, const TokenizerConfig& cfg);

}  // namespace lmscope
