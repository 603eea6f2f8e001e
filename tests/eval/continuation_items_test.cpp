// Where the charlevel task's continuation items come from: evenly spread positions with a full prompt before them.
#include <gtest/gtest.h>

#include "eval/continuation_items.h"

namespace lmscope::eval {
namespace {

std::vector<std::pair<std::string, std::string>> texts(const std::vector<std::string_view>& segs, const ContinuationPlan& p) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& it : p.items) {
    const auto s = segs[it.segment];
    out.emplace_back(std::string(s.substr(it.prompt_begin, it.split - it.prompt_begin)),
                     std::string(s.substr(it.split, it.target_end - it.split)));
  }
  return out;
}

TEST(ContinuationItems, PositionsAreSpreadEvenlyOverTheEligibleOnes) {
  // 6 eligible positions (3..8) in the first segment, none in the second (4 characters: no room for 3 + 2).
  const std::vector<std::string_view> segs{"abcdefghij", "0123"};
  const auto p = plan_continuations(segs, 3, 2, 4, 100);
  EXPECT_EQ(p.eligible, 6);
  // item k takes eligible index floor((2k + 1) · 6 / 8): 0, 2, 3, 5 → positions 3, 5, 6, 8
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(texts(segs, p), (std::vector<P>{{"abc", "de"}, {"cde", "fg"}, {"def", "gh"}, {"fgh", "ij"}}));
  // more items than positions: each position once
  EXPECT_EQ(plan_continuations(segs, 3, 2, 50, 100).items.size(), 6u);
  // the second segment alone has 4 characters: a prompt of 3 and a target of 2 do not fit
  const auto none = plan_continuations({segs.begin() + 1, 1}, 3, 2, 4, 100);
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(none.longest_chars, 4);
}

TEST(ContinuationItems, PromptsAreCutFromTheLeftToFitTheContext) {
  using P = std::pair<std::string, std::string>;
  const std::vector<std::string_view> segs{"abcdefghij"};
  // one item: the middle position 6 ("def" | "gh"); when prompt + target must fit in 4 bytes the prompt keeps "ef"
  EXPECT_EQ(texts(segs, plan_continuations(segs, 3, 2, 1, 100)).front(), (P{"def", "gh"}));
  EXPECT_EQ(texts(segs, plan_continuations(segs, 3, 2, 1, 4)).front(), (P{"ef", "gh"}));
  // two-byte characters α β γ δ ε: the middle position is δ; a 2-byte target leaves room for γ alone in 4 bytes
  const std::vector<std::string_view> greek{"\xCE\xB1\xCE\xB2\xCE\xB3\xCE\xB4\xCE\xB5"};
  EXPECT_EQ(texts(greek, plan_continuations(greek, 2, 1, 1, 100)).front(), (P{"\xCE\xB2\xCE\xB3", "\xCE\xB4"}));
  EXPECT_EQ(texts(greek, plan_continuations(greek, 2, 1, 1, 4)).front(), (P{"\xCE\xB3", "\xCE\xB4"}));
  // never an empty prompt: one character is kept even when the target alone fills the context
  EXPECT_EQ(texts(greek, plan_continuations(greek, 2, 1, 1, 2)).front(), (P{"\xCE\xB3", "\xCE\xB4"}));
}

}  // namespace
}  // namespace lmscope::eval
