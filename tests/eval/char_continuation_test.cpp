// Greedy continuation counted in characters, against the engine's one-sequence generate_greedy on a random
// byte-level model, one prompt at a time and batched.
#include <gtest/gtest.h>

#include <algorithm>

#include "eval/char_continuation.h"
#include "eval/utf8_chars.h"
#include "lmscope/error.h"
#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

TEST(CharContinuation, StopsAfterTheLastRequestedCharacterAndMatchesGreedyDecoding) {
  test::TempDir tmp;
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 128}}).dump(),
                          tmp.path / "m", {.seed = 3, .stddev = 0.5f});
  const auto ck = Checkpoint::open(tmp.path / "m");
  const auto model = load_model(ck);
  TaskEnv env;
  env.model = model.get();
  const std::vector<std::string> prompts{"The quay is quiet", "\xCE\xB1\xCE\xB2", "x", "nets and gulls"};
  const std::int64_t n = 6;
  const auto one = continue_chars(*model, prompts, n, 1, env);
  ASSERT_EQ(one.bytes.size(), prompts.size());
  std::int64_t written = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto& c = one.bytes[i];
    ASSERT_FALSE(c.empty());
    // n characters finished, and not before the last byte (which can finish two: a lead byte it cannot continue
    // and itself)
    EXPECT_GE(finished_chars(c), static_cast<std::size_t>(n)) << i;
    EXPECT_LE(finished_chars(c), static_cast<std::size_t>(n) + 1) << i;
    EXPECT_LT(finished_chars(c.substr(0, c.size() - 1)), static_cast<std::size_t>(n)) << i;
    written += static_cast<std::int64_t>(c.size());
    // the same bytes as the engine's one-sequence greedy decoding for that many steps
    std::vector<std::int32_t> ids(prompts[i].begin(), prompts[i].end());
    for (auto& t : ids) t &= 0xFF;
    const auto ref = generate_greedy(*model, ids, static_cast<std::int64_t>(c.size()));
    EXPECT_EQ(std::string(ref.begin(), ref.end()), c) << i;
  }
  EXPECT_EQ(one.bytes_written, written);
  // one prompt at a time: a prefill per prompt, then one pass per further byte of that prompt
  EXPECT_EQ(one.decode_passes, written - static_cast<std::int64_t>(prompts.size()));
  EXPECT_GT(one.prefill_seconds, 0.0);
  EXPECT_GT(one.decode_seconds, 0.0);

  // batched (groups of 3, then 1): the same text, in fewer passes (a pass per byte of the group's longest)
  const auto three = continue_chars(*model, prompts, n, 3, env);
  EXPECT_EQ(three.bytes, one.bytes);
  EXPECT_EQ(three.bytes_written, written);
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < 3; ++i) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(one.bytes[i].size()));
  EXPECT_EQ(three.decode_passes, (longest - 1) + (static_cast<std::int64_t>(one.bytes[3].size()) - 1));
}

TEST(CharContinuation, RefusesWhatCannotBeContinued) {
  test::TempDir tmp;
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}}).dump(), tmp.path / "m", {.seed = 3});
  const auto ck = Checkpoint::open(tmp.path / "m");
  const auto model = load_model(ck);
  TaskEnv env;
  env.model = model.get();
  const std::vector<std::string> empty{""}, ok{"a"};
  EXPECT_THROW(continue_chars(*model, empty, 2, 1, env), BadInput);
  EXPECT_THROW(continue_chars(*model, ok, 0, 1, env), BadInput);
  EXPECT_THROW(continue_chars(*model, ok, 2, 0, env), BadInput);
}

}  // namespace
}  // namespace lmscope::eval
