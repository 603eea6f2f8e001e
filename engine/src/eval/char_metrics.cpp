#include "eval/char_metrics.h"

#include <cmath>

#include "eval/utf8_chars.h"
#include "lmscope/error.h"

namespace lmscope::eval {

void CharTally::add(const CharTally& o) {
  nll += o.nll;
  bytes += o.bytes;
  chars += o.chars;
  bytes_correct += o.bytes_correct;
  chars_correct += o.chars_correct;
  byte_prob_sum += o.byte_prob_sum;
  char_prob_sum += o.char_prob_sum;
}

nlohmann::json CharTally::to_json() const {
  return {{"nll", nll},
          {"bytes", bytes},
          {"chars", chars},
          {"bytes_correct", bytes_correct},
          {"chars_correct", chars_correct},
          {"byte_prob_sum", byte_prob_sum},
          {"char_prob_sum", char_prob_sum}};
}

CharTally CharTally::from_json(const nlohmann::json& j) {
  CharTally t;
  t.nll = j.at("nll").get<double>();
  t.bytes = j.at("bytes").get<std::int64_t>();
  t.chars = j.at("chars").get<std::int64_t>();
  t.bytes_correct = j.at("bytes_correct").get<std::int64_t>();
  t.chars_correct = j.at("chars_correct").get<std::int64_t>();
  t.byte_prob_sum = j.at("byte_prob_sum").get<double>();
  t.char_prob_sum = j.at("char_prob_sum").get<double>();
  return t;
}

CharTally tally_chars(std::string_view text, std::span<const double> lp, std::span<const std::uint8_t> greedy) {
  if (lp.size() != text.size() || greedy.size() != text.size())
    throw InternalError("tally_chars: " + std::to_string(text.size()) + " bytes but " + std::to_string(lp.size()) +
                        " scores");
  CharTally t;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n = char_length(text, at);
    double char_lp = 0;
    bool all_greedy = true;
    for (std::size_t i = at; i < at + n; ++i) {
      char_lp += lp[i];
      t.byte_prob_sum += std::exp(lp[i]);
      t.bytes_correct += greedy[i] ? 1 : 0;
      all_greedy = all_greedy && greedy[i];
    }
    t.nll -= char_lp;
    t.char_prob_sum += std::exp(char_lp);
    t.chars_correct += all_greedy ? 1 : 0;
    t.bytes += static_cast<std::int64_t>(n);
    ++t.chars;
    at += n;
  }
  return t;
}

nlohmann::json char_metrics(const CharTally& t) {
  nlohmann::json m = nlohmann::json::object();
  if (t.bytes == 0) return m;
  const double B = static_cast<double>(t.bytes), C = static_cast<double>(t.chars);
  const double bits = t.nll / std::log(2.0);
  m["bits_per_char"] = bits / C;
  m["bits_per_byte"] = bits / B;
  m["char_perplexity"] = std::exp(t.nll / C);
  m["byte_perplexity"] = std::exp(t.nll / B);
  m["compression_ratio"] = 8.0 * B / bits;  // original bits / the bits of an ideal code under the model
  m["next_char_accuracy"] = static_cast<double>(t.chars_correct) / C;
  m["next_byte_accuracy"] = static_cast<double>(t.bytes_correct) / B;
  m["avg_char_prob"] = t.char_prob_sum / C;
  m["avg_byte_prob"] = t.byte_prob_sum / B;
  return m;
}

}  // namespace lmscope::eval
