// Character-level metrics from per-byte scores, on numbers worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/char_metrics.h"
#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

TEST(CharMetrics, CharactersCombineTheirBytes) {
  // "a", "é" (C3 A9), "b": four bytes, three characters.
  const std::string text = "a\xC3\xA9" "b";
  const std::vector<double> lp{std::log(0.5), std::log(0.25), std::log(0.8), std::log(0.1)};
  const std::vector<std::uint8_t> greedy{1, 1, 0, 1};  // é's second byte is not the argmax
  const CharTally t = tally_chars(text, lp, greedy);
  const double nll = -(std::log(0.5) + std::log(0.25) + std::log(0.8) + std::log(0.1));
  EXPECT_EQ(t.bytes, 4);
  EXPECT_EQ(t.chars, 3);
  EXPECT_NEAR(t.nll, nll, 1e-15);
  EXPECT_EQ(t.bytes_correct, 3);
  EXPECT_EQ(t.chars_correct, 2);
  EXPECT_NEAR(t.char_prob_sum, 0.5 + 0.25 * 0.8 + 0.1, 1e-15);
  EXPECT_NEAR(t.byte_prob_sum, 0.5 + 0.25 + 0.8 + 0.1, 1e-15);

  const auto m = char_metrics(t);
  const double bits = nll / std::log(2.0);
  EXPECT_NEAR(m["bits_per_char"].get<double>(), bits / 3, 1e-14);
  EXPECT_NEAR(m["bits_per_byte"].get<double>(), bits / 4, 1e-14);
  EXPECT_NEAR(m["char_perplexity"].get<double>(), std::exp(nll / 3), 1e-12);
  EXPECT_NEAR(m["byte_perplexity"].get<double>(), std::exp(nll / 4), 1e-12);
  EXPECT_NEAR(m["compression_ratio"].get<double>(), 4 * 8 / bits, 1e-12);
  EXPECT_NEAR(m["next_char_accuracy"].get<double>(), 2.0 / 3, 1e-15);
  EXPECT_NEAR(m["next_byte_accuracy"].get<double>(), 3.0 / 4, 1e-15);
  EXPECT_NEAR(m["avg_char_prob"].get<double>(), (0.5 + 0.2 + 0.1) / 3, 1e-15);
  EXPECT_NEAR(m["avg_byte_prob"].get<double>(), (0.5 + 0.25 + 0.8 + 0.1) / 4, 1e-15);
}

TEST(CharMetrics, TalliesAddUpAndSurviveJson) {
  const std::vector<double> lp{std::log(0.5), std::log(0.25)};
  const std::vector<std::uint8_t> g{1, 0};
  CharTally a = tally_chars("xy", lp, g), b = tally_chars("\xE2", {lp.data(), 1}, {g.data(), 1});
  a.add(CharTally::from_json(b.to_json()));
  EXPECT_EQ(a.bytes, 3);
  EXPECT_EQ(a.chars, 3);  // a lone lead byte is a character of its own
  EXPECT_EQ(a.chars_correct, 2);
  EXPECT_NEAR(a.char_prob_sum, 1.25, 1e-15);
  EXPECT_TRUE(char_metrics(CharTally{}).empty());  // nothing scored: no numbers rather than NaN
  EXPECT_THROW(tally_chars("xy", {lp.data(), 1}, {g.data(), 1}), InternalError);
}

}  // namespace
}  // namespace lmscope::eval
