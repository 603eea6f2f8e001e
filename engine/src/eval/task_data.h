// Reading task data files: JSON lines in the Hugging Face datasets' layout, plain text, the WikiText raw file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/json_input.h"  // valid_utf8: generated text from a byte model need not be UTF-8
#include "lmscope/tokenizer.h"

namespace lmscope::eval {

// settings[key] as a path relative to base_dir; BadInput naming the task and field when it is missing or the file
// does not exist.
std::filesystem::path data_path(const nlohmann::json& settings, const std::string& key, const std::string& task,
                                const std::string& base_dir, const std::string& what_it_is);

std::string read_text_file(const std::filesystem::path& path);
// One JSON object per non-empty line; BadInput naming file:line on a parse error.
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);
// Documents of a corpus file: .jsonl (field `field` of each record), .json (an array of strings or of records
// with `field`), anything else one document of the whole text.
std::vector<std::string> read_documents(const std::filesystem::path& path, const std::string& field);
// The same two over text already read (`path` names it, and its extension picks the layout).
std::vector<nlohmann::json> parse_jsonl(std::string_view text, const std::filesystem::path& path);
std::vector<std::string> documents_from_text(std::string_view text, const std::filesystem::path& path,
                                             const std::string& field);

// The text's tokens without BOS/EOS (lm-eval's add_special_tokens=False): what the tasks score.
std::vector<std::int32_t> encode_plain(const Tokenizer& tokenizer, std::string_view text);
// lm-eval's tok_encode for a document: encode_plain, but with the tokenizer's special tokens for Gemma models
// (lm-eval adds their BOS: HFLM's add_bos_token for model types containing "gemma").
std::vector<std::int32_t> encode_as_lm_eval(const Tokenizer& tokenizer, std::string_view text);

// Each document's tokens as encode_plain gives them, `prefix` first when there is one (a BOS the task asks for).
std::vector<std::vector<std::int32_t>> encode_documents(const Tokenizer& tokenizer, const std::vector<std::string>& docs,
                                                        std::optional<std::int32_t> prefix = std::nullopt);

// FNV-1a 64 of bytes, as 16 hex digits (data hashes in provenance; not cryptographic).
std::string fnv1a64_hex(std::string_view bytes);
// fnv1a64_hex of the documents one after another (a task's data_hash), without joining them.
std::string documents_hash(const std::vector<std::string>& docs);
std::string file_hash(const std::filesystem::path& path);
// fnv1a64_hex of a file's bytes as they are (a tokenizer file: a SentencePiece .model is binary); `what` names it in
// errors. Equal to file_hash for a text file.
std::string file_bytes_hash(const std::filesystem::path& path, const std::string& what);

// Stated limits on what task settings may ask for: each allocates or loops in proportion to its value before any
// data can bound it (passkey prompts are built to the length asked, throughput allocates batch × seq ids).
constexpr std::int64_t kMaxTaskLength = 1 << 24;  // tokens in one window, chunk or prompt
constexpr std::int64_t kMaxTaskContext = 1ll << 30;  // max_length (a model's context may be set that long)
constexpr std::int64_t kMaxTrials = 10000;          // passkey trials per cell, throughput repeats
constexpr std::int64_t kMaxNewTokens = 1024;        // tokens a passkey trial generates (the key is 5 digits)
constexpr std::int64_t kMaxBatchTokens = 1 << 26;   // batch × seq of one throughput unit

// settings[key] when present, else fallback; BadInput naming task and field when the type is wrong.
std::int64_t setting_int(const nlohmann::json& settings, const std::string& key, std::int64_t fallback,
                         const std::string& task);
double setting_double(const nlohmann::json& settings, const std::string& key, double fallback, const std::string& task);
// setting_int / setting_int_list whose values must lie in [lo, hi] (BadInput naming task, field and range).
std::int64_t setting_int_in(const nlohmann::json& settings, const std::string& key, std::int64_t fallback,
                            std::int64_t lo, std::int64_t hi, const std::string& task);
std::vector<std::int64_t> setting_int_list_in(const nlohmann::json& settings, const std::string& key,
                                              std::vector<std::int64_t> fallback, std::int64_t lo, std::int64_t hi,
                                              const std::string& task);
std::vector<std::int64_t> setting_int_list(const nlohmann::json& settings, const std::string& key,
                                           std::vector<std::int64_t> fallback, const std::string& task);
std::vector<double> setting_double_list(const nlohmann::json& settings, const std::string& key,
                                        std::vector<double> fallback, const std::string& task);
std::string setting_string(const nlohmann::json& settings, const std::string& key, const std::string& fallback,
                           const std::string& task);
// BadInput when settings has a key not in `known` (catches typos such as "lenghts").
void check_known_settings(const nlohmann::json& settings, const std::vector<std::string>& known, const std::string& task);

}  // namespace lmscope::eval
