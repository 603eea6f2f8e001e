// Typed access to config.json fields with errors that name the file, the field and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lmscope/rope.h"

namespace lmscope {

// Stated limits, far above every published checkpoint (126 layers, vocabularies of 256K, contexts of 10M).
constexpr std::int64_t kMaxLayers = 16384;
constexpr std::int64_t kMaxWidth = 1 << 20;      // hidden, intermediate, heads, head dimension
constexpr std::int64_t kMaxVocab = 1 << 24;
constexpr std::int64_t kMaxContext = 1ll << 30;  // max_position_embeddings
constexpr std::int64_t kMaxWindow = 1 << 20;     // a sliding window allocates its whole ring of keys and values
constexpr std::int64_t kMaxChunk = 4096;         // chunked scans allocate chunk × chunk per head

class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& j, std::filesystem::path file, std::string prefix = "")
      : j_(&j), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool has(const std::string& key) const;  // present and not null
  // Positive integers are at most kMaxConfigInt: no size lmscope reads comes near it, and it keeps every product of
  // two of them inside int64.
  static constexpr std::int64_t kMaxConfigInt = (1ll << 31) - 1;
  std::int64_t positive_int(const std::string& key) const;
  std::int64_t positive_int(const std::string& key, std::int64_t fallback) const;
  // An integer in [lo, hi] (fallback when absent): for sizes that allocate without a tensor to check them against
  // (chunk sizes, windows).
  std::int64_t bounded_int(const std::string& key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const;
  std::optional<std::int64_t> optional_int(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  // A width multiplier (expand, expand_v, ...): positive and at most kMaxWidth, so that a positive int times it is
  // still a number an int64 holds (a cast from beyond that is undefined).
  double expansion_ratio(const std::string& key, double fallback) const;
  std::optional<double> optional_number(const std::string& key) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> int_or_int_list(const std::string& key) const;  // eos_token_id: 2 or [2, 3]
  // A nested object (e.g. fla's "attn" block) with the same error reporting.
  ConfigFields object(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  // The first of `keys` present in this object ("" when none): for messages about a value several names can set.
  std::string first_present(std::initializer_list<const char*> keys) const;
  const nlohmann::json& raw() const { return *j_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  const nlohmann::json* get(const std::string& key) const;
  const nlohmann::json* j_;
  std::filesystem::path file_;
  std::string prefix_;
};

// RoPE from either layout: top-level rope_theta + rope_scaling {rope_type|type, ...} (published checkpoints), or
// transformers 5's rope_parameters {rope_theta, rope_type, ...}. Both normalise to the same RopeConfig.
RopeConfig parse_rope_config(const ConfigFields& cfg, std::int64_t max_position_embeddings);

}  // namespace lmscope
