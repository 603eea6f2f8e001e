// score_windows: windows of different lengths share passes (right-padded) exactly where the model allows it, with
// the scores each window gets alone.
#include "eval/scoring.h"

#include <gtest/gtest.h>

#include <random>

#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/forwarding_model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope::eval {
namespace {

// Forwards to a model and records the shape (batch, length) of every batched pass.
class PassRecorder final : public test::ForwardingModel {
 public:
  using ForwardingModel::ForwardingModel;
  void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                   std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const override {
    passes.emplace_back(batch, static_cast<std::int64_t>(tokens.size()) / batch);
    inner_.score_batch(tokens, batch, targets, logprobs, greedy);
  }
  mutable std::vector<std::pair<std::int64_t, std::int64_t>> passes;
};

struct Windows {
  std::vector<std::vector<std::int32_t>> input, targets;
  std::vector<WindowRequest> requests() const {
    std::vector<WindowRequest> r;
    for (std::size_t i = 0; i < input.size(); ++i) r.push_back({input[i], targets[i]});
    return r;
  }
};

// Random windows of the given lengths; about a third of the positions not scored.
Windows random_windows(const std::vector<std::size_t>& lengths, std::int64_t vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> tok(0, static_cast<std::int32_t>(vocab - 1));
  Windows w;
  for (const auto n : lengths) {
    w.input.emplace_back(n);
    w.targets.emplace_back(n);
    for (std::size_t i = 0; i < n; ++i) {
      w.input.back()[i] = tok(rng);
      w.targets.back()[i] = rng() % 3 == 0 ? -1 : tok(rng);
    }
  }
  return w;
}

// Every window's batched score against the same window scored alone.
void expect_scores_as_alone(const Model& m, const Windows& w, const std::vector<WindowScore>& batched, double tol) {
  ASSERT_EQ(batched.size(), w.input.size());
  TaskEnv one;
  one.model = &m;
  for (std::size_t k = 0; k < w.input.size(); ++k) {
    const auto alone = score_window(m, w.input[k], w.targets[k], one);
    ASSERT_EQ(batched[k].logprobs.size(), alone.logprobs.size()) << "window " << k;
    EXPECT_EQ(batched[k].scored, alone.scored) << "window " << k;
    EXPECT_NEAR(batched[k].sum, alone.sum, tol * static_cast<double>(std::max<std::int64_t>(alone.scored, 1))) << k;
    for (std::size_t i = 0; i < alone.logprobs.size(); ++i) {
      EXPECT_NEAR(batched[k].logprobs[i], alone.logprobs[i], tol) << "window " << k << " position " << i;
      if (w.targets[k][i] >= 0) EXPECT_EQ(batched[k].greedy[i], alone.greedy[i]) << "window " << k << " position " << i;
    }
  }
}

TEST(ScoreWindows, PadsShorterWindowsIntoTheLongestsPass) {
  test::TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, {});
  const auto m = load_model(Checkpoint::open(dir.path));
  EXPECT_TRUE(m->pads_exactly(9, 20));
  EXPECT_FALSE(m->pads_exactly(20, 9));
  PassRecorder rec(*m);
  const auto w = random_windows({9, 20, 13, 0, 20, 3, 1}, m->spec().vocab_size, 1);
  TaskEnv env;
  env.model = &rec;
  env.batch_size = 4;
  std::int64_t tokens = 0;
  env.on_tokens = [&](std::int64_t n) { tokens += n; };
  const auto scores = score_windows(rec, w.requests(), env);
  // Longest first: 20, 20, 13, 9 in one pass of length 20; then 3 and 1 (padded to 3); the empty window in none.
  EXPECT_EQ(rec.passes, (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 20}, {2, 3}}));
  EXPECT_EQ(tokens, 9 + 20 + 13 + 20 + 3 + 1);  // progress counts the windows' tokens, not the padding
  EXPECT_TRUE(scores[3].logprobs.empty());
  EXPECT_EQ(scores[3].scored, 0);
  expect_scores_as_alone(*m, w, scores, 1e-5);
}

TEST(ScoreWindows, LengthDependentRopeOnlyPadsWhereTheFrequenciesAgree) {
  // Dynamic NTK rescales the base once a sequence is longer than the original context (16 here): a window of 13
  // padded to 20 would see other frequencies, so it does not share the 20s' pass; 13, 9 and 3 (all <= 16) do.
  test::TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, {});
  LoadOptions lo;
  lo.rope_override = "dynamic:factor=2,original_max_position_embeddings=16";
  const auto m = load_model(Checkpoint::open(dir.path), lo);
  EXPECT_FALSE(m->pads_exactly(13, 20));
  EXPECT_TRUE(m->pads_exactly(9, 16));
  EXPECT_TRUE(m->pads_exactly(20, 20));
  PassRecorder rec(*m);
  const auto w = random_windows({9, 20, 13, 20, 3}, m->spec().vocab_size, 2);
  TaskEnv env;
  env.model = &rec;
  env.batch_size = 8;
  const auto scores = score_windows(rec, w.requests(), env);
  EXPECT_EQ(rec.passes, (std::vector<std::pair<std::int64_t, std::int64_t>>{{2, 20}, {3, 13}}));
  expect_scores_as_alone(*m, w, scores, 1e-5);
}

TEST(ScoreWindows, OneAtATimeWithoutABatchSize) {
  test::TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, {});
  const auto m = load_model(Checkpoint::open(dir.path));
  PassRecorder rec(*m);
  const auto w = random_windows({5, 5, 4}, m->spec().vocab_size, 3);
  TaskEnv env;
  env.model = &rec;
  const auto scores = score_windows(rec, w.requests(), env);
  EXPECT_TRUE(rec.passes.empty());
  expect_scores_as_alone(*m, w, scores, 0.0);
}

// Recurrent, convolutional, hybrid and sliding-window families, and the length-dependent RoPE types: padding
// after a window leaves its positions as they were.
class PaddedFamilies : public ::testing::TestWithParam<const char*> {};

TEST_P(PaddedFamilies, PaddedWindowsScoreAsAlone) {
  const auto dir = test::refpack_case(GetParam());
  LMSCOPE_REQUIRE_PATH(dir, std::string("refpack ") + GetParam());
  const auto m = load_model(Checkpoint::open(dir));
  PassRecorder rec(*m);
  const auto w = random_windows({70, 33, 64, 5}, m->spec().vocab_size, 4);  // across a 64-token chunk
  TaskEnv env;
  env.model = &rec;
  env.batch_size = 4;
  const auto scores = score_windows(rec, w.requests(), env);
  const std::vector<std::pair<std::int64_t, std::int64_t>> one_pass{{4, 70}};
  if (m->pads_exactly(5, 70)) EXPECT_EQ(rec.passes, one_pass);
  else EXPECT_NE(rec.passes, one_pass);  // the RoPE frequencies change with the length: not all in one pass
  expect_scores_as_alone(*m, w, scores, std::string(GetParam()) == "fla-bitnet" ? 2e-2 : 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Refpack, PaddedFamilies,
                         ::testing::Values("fla-gated_deltanet", "fla-bitnet", "hf-mamba", "hf-mamba2", "fla-gla",
                                           "fla-retnet", "fla-hgrn2", "fla-samba", "hf-gemma2", "hf-mistral", "hf-phi3",
                                           "hf-gpt_neox", "llama-dynamic", "llama-longrope"),
                         [](const auto& info) { return test::gtest_name(info.param); });

}  // namespace
}  // namespace lmscope::eval
