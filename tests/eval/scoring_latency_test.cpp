// The scoring latency probe: every batch size scores every window once timed, and reports its memory peaks.
#include <gtest/gtest.h>

#include "eval/scoring_latency.h"
#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

TEST(ScoringLatency, EachBatchSizeScoresEveryWindow) {
  test::TempDir tmp;
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}}).dump(), tmp.path / "m", {.seed = 5});
  const auto ck = Checkpoint::open(tmp.path / "m");
  const auto model = load_model(ck);
  TaskEnv env;
  env.model = model.get();
  std::int64_t tokens_read = 0;
  env.on_tokens = [&](std::int64_t n) { tokens_read += n; };
  const std::vector<std::int32_t> input{1, 72, 101, 108, 108, 111, 32, 119};
  const std::vector<std::int32_t> all{72, 101, 108, 108, 111, 32, 119, 111}, last3{-1, -1, -1, -1, -1, 32, 119, 111};
  const std::vector<WindowRequest> windows{{input, all}, {input, last3}, {input, all}};
  const std::vector<std::int64_t> batches{1, 2};
  const auto m = measure_scoring_latency(*model, windows, batches, env);
  ASSERT_EQ(m.size(), 2u);
  for (std::size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m[i].batch, batches[i]);
    EXPECT_EQ(m[i].tokens_scored, 8 + 3 + 8);
    EXPECT_GT(m[i].seconds, 0.0);
    EXPECT_GT(m[i].peak_host_bytes, 0);
    EXPECT_EQ(m[i].peak_device_bytes, -1);  // the CPU backend has no device memory to track
  }
  EXPECT_EQ(tokens_read, 2 * 2 * 3 * 8);  // warm-up and timed pass per batch size
}

}  // namespace
}  // namespace lmscope::eval
