// Rotary position embedding (RoPE) and its context-extension methods, as one pure function:
// (configuration, head dimension, sequence length) -> inverse frequencies + attention factor.
// Both backends build their cos/sin tables from this, so it is tested once, on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lmscope {

enum class RopeType { Default, Linear, Dynamic, Yarn, LongRope, Llama3, Ntk };

std::string_view rope_type_name(RopeType t);
// Accepts transformers' names (and the older aliases "su"/"longrope"); nullopt when unknown.
std::optional<RopeType> rope_type_from_name(std::string_view name);
// "default, linear, dynamic, yarn, longrope, llama3, ntk"
std::string rope_type_list();

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double partial_rotary_factor = 1.0;
  // The model's configured context length (config.json max_position_embeddings).
  std::int64_t max_position_embeddings = 2048;
  // The pretrained context the scaling starts from (linear/ntk/dynamic/yarn/longrope/llama3).
  std::optional<std::int64_t> original_max_position_embeddings;
  std::optional<double> factor;
  std::optional<double> attention_factor;  // multiplies cos and sin (yarn, longrope)
  // llama3
  std::optional<double> low_freq_factor, high_freq_factor;
  // yarn
  std::optional<double> beta_fast, beta_slow, mscale, mscale_all_dim;
  bool truncate = true;
  // longrope: one factor per frequency (rotary_dim / 2 of them)
  std::vector<double> short_factor, long_factor;

  bool operator==(const RopeConfig&) const = default;
};

struct RopeFrequencies {
  std::vector<double> inv_freq;  // rotary_dim / 2 entries
  double attention_factor = 1.0;
  bool operator==(const RopeFrequencies&) const = default;
};

// The range a scaling factor may take: context extension by up to a million, compression by up to a thousand.
constexpr double kMinRopeFactor = 1e-3;
constexpr double kMaxRopeFactor = 1e6;

// Dimensions of each head that rotate (head_dim * partial_rotary_factor, even).
std::int64_t rope_rotary_dim(const RopeConfig& cfg, std::int64_t head_dim);

// Throws BadInput naming the parameter when the configuration cannot be used with this head dimension
// (factor <= 0, missing llama3/longrope fields, wrong list lengths, ...).
void validate_rope(const RopeConfig& cfg, std::int64_t head_dim);

// Inverse frequencies and attention factor for a sequence of `seq_len` tokens. Only `dynamic` and `longrope`
// depend on seq_len (dynamic NTK rescales the base once seq_len exceeds the original context; longrope switches
// from short to long factors there).
RopeFrequencies rope_frequencies(const RopeConfig& cfg, std::int64_t head_dim, std::int64_t seq_len);

// Applies a run-time override "TYPE[:key=value,...]" on top of a checkpoint's configuration, e.g.
// "yarn:factor=4,original_max_position_embeddings=4096", "ntk:factor=2", "default", "dynamic:factor=2".
// List values (longrope short_factor/long_factor) are separated by '/'. Keys: theta, factor,
// original_max_position_embeddings (or original_max), attention_factor, low_freq_factor, high_freq_factor,
// beta_fast, beta_slow, mscale, mscale_all_dim, truncate, short_factor, long_factor, partial_rotary_factor.
// When TYPE differs from the checkpoint's, only theta, the context lengths and partial_rotary_factor carry over.
RopeConfig apply_rope_override(const RopeConfig& base, std::string_view spec);

// One line for people: "yarn (theta 10000, factor 4, original context 64, attention factor 1.139)".
std::string describe_rope(const RopeConfig& cfg);

}  // namespace lmscope
