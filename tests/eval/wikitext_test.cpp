// lm-eval's WikiText preprocessing, rolling windows and perplexity aggregation. Expected strings and totals come
// from tools/eval_reference/wikitext_reference.py (Python's own `re` applying lm-eval's rules).
#include <gtest/gtest.h>

#include <cmath>

#include "lmscope/error.h"
#include "lmscope/eval/perplexity_metrics.h"
#include "lmscope/eval/rolling_windows.h"
#include "lmscope/eval/wikitext.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

TEST(WikitextDetokenizer, MatchesPythonOnHandWrittenCases) {
  EXPECT_EQ(wikitext_detokenize(" = = Title = = \n"), " == Title ==\n");
  EXPECT_EQ(wikitext_detokenize("the cats ' toy ( a b ) [ c ] { d } \" e \" ' f ' 3 @.@ 5 km , ok . N \n end 's"),
            "the cats'toy (a b) [c] {d} \"e\"' f '3.5 km, ok. N\nend's");
  EXPECT_EQ(wikitext_detokenize("x (  \n ) y ( z"), "x () y ( z");
  EXPECT_EQ(wikitext_detokenize("/' 7/ and 5 \u00b0 C"), "/'[0-9]/ and 5\u00b0C");
  EXPECT_EQ(wikitext_detokenize("a\u00a0\u2003b  c "), "a\u00a0\u2003b  c ");
}

TEST(WikitextDetokenizer, WordCountsFollowPythonSplit) {
  EXPECT_EQ(count_words_like_lm_eval("  a b "), 4);  // leading and trailing whitespace count empty words
  EXPECT_EQ(count_words_like_lm_eval("a\u00a0b\u2003c"), 3);  // NBSP and EM SPACE are whitespace to Python
  EXPECT_EQ(count_words_like_lm_eval(""), 1);
  EXPECT_EQ(count_words_like_lm_eval("one"), 1);
  EXPECT_TRUE(is_python_whitespace(U'\u3000'));
  EXPECT_FALSE(is_python_whitespace(U'\u200b'));  // zero-width space is not whitespace to Python
}

TEST(WikitextDetokenizer, WholeTestSplitMatchesTheIndependentComputation) {
  const auto shared = test::shared_dir();
  const auto path = shared.empty() ? shared : shared / "data/wikitext-2-raw/wiki.test.raw";
  LMSCOPE_REQUIRE_PATH(path, "../shared/data/wikitext-2-raw/wiki.test.raw");
  const auto docs = split_wikitext_documents(test::read_text(path));
  ASSERT_EQ(docs.size(), 62u);
  std::int64_t words = 0, bytes = 0;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& d : docs) {
    words += count_words_like_lm_eval(d);
    bytes += static_cast<std::int64_t>(d.size());
    h = fnv1a(wikitext_detokenize(d), h);
  }
  EXPECT_EQ(count_words_like_lm_eval(docs[0]), 1093);
  EXPECT_EQ(docs[0].size(), 5634u);
  EXPECT_EQ(words, 241335);
  EXPECT_EQ(bytes, 1287656);
  EXPECT_EQ(h, 0x96f8d2b0173fa07bull);
}

std::vector<std::int32_t> iota(int n) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = 100 + i;
  return v;
}

TEST(RollingWindows, ShortDocumentIsOneWindowWithThePrefix) {
  const auto w = rolling_windows(iota(3), 8, 1);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].input, (std::vector<std::int32_t>{1, 100, 101}));
  EXPECT_EQ(w[0].targets, (std::vector<std::int32_t>{100, 101, 102}));
  EXPECT_EQ(position_targets(w[0]), (std::vector<std::int32_t>{100, 101, 102}));
}

TEST(RollingWindows, LongDocumentIsCutIntoDisjointTargets) {
  const auto t = iota(10);
  const auto w = rolling_windows(t, 4, 1);
  // first: [p, t0, t1, t2] -> t0..t3; then end = 8: t[3:7] -> t4..t7; then end = 10: k = 2, t[5:9] -> t8, t9
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].input, (std::vector<std::int32_t>{1, 100, 101, 102}));
  EXPECT_EQ(w[0].targets, (std::vector<std::int32_t>{100, 101, 102, 103}));
  EXPECT_EQ(w[1].input, (std::vector<std::int32_t>{103, 104, 105, 106}));
  EXPECT_EQ(w[1].targets, (std::vector<std::int32_t>{104, 105, 106, 107}));
  EXPECT_EQ(w[2].input, (std::vector<std::int32_t>{105, 106, 107, 108}));
  EXPECT_EQ(w[2].targets, (std::vector<std::int32_t>{108, 109}));
  EXPECT_EQ(position_targets(w[2]), (std::vector<std::int32_t>{-1, -1, 108, 109}));
  // every token is scored exactly once, and each target's context is what precedes it in the document
  std::vector<std::int32_t> all;
  for (const auto& x : w) {
    all.insert(all.end(), x.targets.begin(), x.targets.end());
    const auto p = position_targets(x);
    for (std::size_t i = 0; i + 1 < x.input.size(); ++i)
      if (p[i] >= 0) EXPECT_EQ(p[i], x.input[i + 1]);
  }
  EXPECT_EQ(all, t);
  EXPECT_TRUE(rolling_windows({}, 4, 1).empty());
  EXPECT_THROW(rolling_windows(t, 0, 1), BadInput);
}

TEST(RollingWindows, MaxLengthOneScoresEachTokenFromItsPredecessor) {
  const auto w = rolling_windows(iota(3), 1, 7);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].input, (std::vector<std::int32_t>{7}));
  EXPECT_EQ(w[1].input, (std::vector<std::int32_t>{100}));
  EXPECT_EQ(w[2].input, (std::vector<std::int32_t>{101}));
  EXPECT_EQ(w[2].targets, (std::vector<std::int32_t>{102}));
}

TEST(PerplexityMetrics, WeightedOverDocuments) {
  PerplexityTotals p;
  p.add_document(-10.0, 4, 20, 8);
  p.add_document(-30.0, 6, 60, 12);
  EXPECT_NEAR(p.word_perplexity(), std::exp(40.0 / 10), 1e-9);
  EXPECT_NEAR(p.byte_perplexity(), std::exp(40.0 / 80), 1e-12);
  EXPECT_NEAR(p.bits_per_byte(), 40.0 / (80 * std::log(2.0)), 1e-12);
  EXPECT_NEAR(p.token_perplexity(), std::exp(2.0), 1e-12);
}

}  // namespace
}  // namespace lmscope::eval
