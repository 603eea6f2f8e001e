// Character-level metrics from a byte-level model's per-byte scores. The model predicts bytes; a character
// (eval/utf8_chars.h) is predicted with the product of its bytes' probabilities, each given the true bytes before
// it, and counts as predicted top-1 when each of its bytes is the argmax — what greedy decoding from the true text
// would write. Sums are kept, not means, so work units add up exactly. The definitions are in docs/evaluation.md.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lmscope::eval {

struct CharTally {
  double nll = 0;  // −Σ ln P(byte), nats
  std::int64_t bytes = 0, chars = 0;
  std::int64_t bytes_correct = 0, chars_correct = 0;  // argmax = target
  double byte_prob_sum = 0, char_prob_sum = 0;        // Σ P(byte), Σ P(character)

  void add(const CharTally& other);
  nlohmann::json to_json() const;
  static CharTally from_json(const nlohmann::json& j);
};

// text[i] was scored with logprobs[i] = ln P(text[i] | the bytes before it in its window) and greedy[i] = whether
// text[i] was the argmax. InternalError when the lengths differ.
CharTally tally_chars(std::string_view text, std::span<const double> logprobs, std::span<const std::uint8_t> greedy);

// bits_per_char, bits_per_byte, char_perplexity, byte_perplexity, compression_ratio, next_char_accuracy,
// next_byte_accuracy, avg_char_prob, avg_byte_prob; an empty object when nothing was scored.
nlohmann::json char_metrics(const CharTally& t);

}  // namespace lmscope::eval
