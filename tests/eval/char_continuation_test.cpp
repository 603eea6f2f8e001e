// Greedy continuation counted in characters, against the engine's generate_greedy on a random byte-level model.
#include <gtest/gtest.h>

#include "eval/char_continuation.h"
#include "eval/utf8_chars.h"
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
  const std::vector<std::string> prompts{"The quay is quiet", "\xCE\xB1\xCE\xB2", "x"};
  const std::int64_t n = 6;
  const auto out = continue_chars(*model, prompts, n, env);
  ASSERT_EQ(out.size(), prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto& c = out[i];
    ASSERT_FALSE(c.bytes.empty());
    // n characters finished, and not before the last byte (which can finish two: a lead byte it cannot continue
    // and itself)
    EXPECT_GE(finished_chars(c.bytes), static_cast<std::size_t>(n)) << i;
    EXPECT_LE(finished_chars(c.bytes), static_cast<std::size_t>(n) + 1) << i;
    EXPECT_LT(finished_chars(c.bytes.substr(0, c.bytes.size() - 1)), static_cast<std::size_t>(n)) << i;
    EXPECT_EQ(c.steps, static_cast<std::int64_t>(c.bytes.size()));
    // the same bytes as the engine's greedy decoding for that many steps
    std::vector<std::int32_t> ids(prompts[i].begin(), prompts[i].end());
    for (auto& t : ids) t &= 0xFF;
    const auto ref = generate_greedy(*model, ids, c.steps);
    EXPECT_EQ(std::string(ref.begin(), ref.end()), c.bytes) << i;
    EXPECT_GT(c.prompt_seconds, 0.0);
    EXPECT_GE(c.decode_seconds, 0.0);
  }
}

}  // namespace
}  // namespace lmscope::eval
