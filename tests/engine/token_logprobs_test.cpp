// Fused LM-head scoring against log-softmax of fully materialised logits, across vocabulary-chunk boundaries.
#include <gtest/gtest.h>

#include <random>

#include "backend/cpu_backend.h"
#include "lmscope/error.h"
#include "backend/vocab_chunks.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/forwarding_model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

TEST(TokenLogprobs, RowScoreMergesChunksLikeOneLogSumExp) {
  const std::vector<double> logits{1.0, 3.0, -2.0, 3.0, 0.5, 7.0, 7.0, -1.0};
  RowScore r;
  for (std::size_t c0 = 0; c0 < logits.size(); c0 += 3) {
    const std::size_t n = std::min<std::size_t>(3, logits.size() - c0);
    std::size_t best = c0;
    for (std::size_t v = c0; v < c0 + n; ++v)
      if (logits[v] > logits[best]) best = v;
    double sum = 0;
    for (std::size_t v = c0; v < c0 + n; ++v) sum += std::exp(logits[v] - logits[best]);
    r.merge(logits[best], sum, static_cast<std::int64_t>(best));
  }
  double z = 0;
  for (double l : logits) z += std::exp(l);
  r.target = logits[4];
  EXPECT_NEAR(r.logprob(), logits[4] - std::log(z), 1e-12);
  EXPECT_EQ(r.argmax, 5);  // the first of the two 7.0s, which sit in different chunks
}

TEST(TokenLogprobs, CpuOpMatchesFullLogitsAcrossChunks) {
  CpuBackend b;
  const std::int64_t T = 30000, H = 8, V = 600;  // T * V > the chunk budget: several vocabulary chunks
  ASSERT_LT(vocab_chunk(T, V), V);
  std::mt19937 rng(7);
  // Small integers: every logit is exact in float32 whatever the summation order, so chunked and full products
  // agree bit for bit and ties (frequent among integer logits) are real ties.
  std::uniform_int_distribution<int> n(-3, 3);
  Tensor x = b.alloc(DType::F32, {T, H}), w = b.alloc(DType::F32, {V, H});
  std::vector<float> xv(static_cast<std::size_t>(T * H)), wv(static_cast<std::size_t>(V * H));
  for (auto& v : xv) v = static_cast<float>(n(rng));
  for (auto& v : wv) v = static_cast<float>(n(rng));
  for (std::int64_t h = 0; h < H; ++h) wv[static_cast<std::size_t>(599 * H + h)] = wv[static_cast<std::size_t>(10 * H + h)];  // ties across chunks
  b.upload(xv, x);
  b.upload(wv, w);
  Tensor logits = b.alloc(DType::F32, {T, V});
  b.linear(x, w, nullptr, logits);
  std::vector<float> full(static_cast<std::size_t>(T * V));
  b.download(logits, full);

  std::vector<std::int32_t> targets(static_cast<std::size_t>(T));
  std::vector<std::int64_t> first_max(targets.size());
  for (std::int64_t t = 0; t < T; ++t) {
    const auto row = std::span(full).subspan(static_cast<std::size_t>(t * V), static_cast<std::size_t>(V));
    first_max[static_cast<std::size_t>(t)] = argmax(row);
    // every third row asks for its own argmax, one row is not scored
    targets[static_cast<std::size_t>(t)] = t % 3 == 0 ? static_cast<std::int32_t>(first_max[static_cast<std::size_t>(t)])
                                                      : static_cast<std::int32_t>((t * 7919) % V);
  }
  targets[5] = -1;
  std::vector<double> lp(targets.size());
  std::vector<std::uint8_t> greedy(targets.size());
  b.token_logprobs(x, w, targets, lp, greedy);
  double worst = 0;
  int ties_seen = 0;
  for (std::int64_t t = 0; t < T; ++t) {
    const auto i = static_cast<std::size_t>(t);
    if (targets[i] < 0) {
      EXPECT_EQ(lp[i], 0.0);
      EXPECT_EQ(greedy[i], 0);
      continue;
    }
    const float* row = full.data() + i * V;
    double mx = row[0], z = 0;
    for (std::int64_t v = 1; v < V; ++v) mx = std::max<double>(mx, row[v]);
    for (std::int64_t v = 0; v < V; ++v) z += std::exp(row[v] - mx);
    worst = std::max(worst, std::fabs(lp[i] - (row[targets[i]] - mx - std::log(z))));
    ASSERT_EQ(greedy[i], targets[i] == first_max[i]) << "row " << t;
    ties_seen += first_max[i] == 10;  // then column 599, in a later chunk, holds the same maximum
  }
  EXPECT_LT(worst, 1e-9);
  EXPECT_GT(ties_seen, 0);
}

TEST(TokenLogprobs, ModelScoringEqualsLogSoftmaxOfLogits) {
  test::TempDir dir;
  RandomCheckpointOptions o;
  o.stddev = 0.3f;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, o);
  const auto m = load_model(Checkpoint::open(dir.path));
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back((i * 13 + 5) % 64);
  std::vector<std::uint8_t> greedy;
  const auto lp = next_token_logprobs(*m, ids, &greedy);
  ASSERT_EQ(lp.size(), ids.size() - 1);
  const auto logits = compute_logits(*m, ids);
  double sum = 0;
  for (std::size_t t = 0; t + 1 < ids.size(); ++t) {
    sum += lp[t];
    const auto row = std::span(logits).subspan(t * 64, 64);
    EXPECT_EQ(greedy[t], argmax(row) == ids[t + 1]);
  }
  EXPECT_NEAR(-sum / static_cast<double>(lp.size()), test::mean_nll(logits, ids, 64), 1e-6);
  // targets of the wrong length are refused
  auto seq = m->new_sequence();
  std::vector<double> out;
  std::vector<std::uint8_t> g;
  AppendOutput bad;
  const std::vector<std::int32_t> two{1, 2};
  bad.targets = two;
  bad.target_logprobs = &out;
  bad.target_is_greedy = &g;
  EXPECT_THROW(seq->append(std::span(ids).subspan(0, 3), bad), BadInput);
}

}  // namespace
}  // namespace lmscope

namespace lmscope {
namespace {

// A model whose batched passes "run out of memory" above two sequences, to check the micro-batch retry.
class OomAboveTwo final : public test::ForwardingModel {
 public:
  using ForwardingModel::ForwardingModel;
  void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                   std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const override {
    calls.push_back(batch);
    if (batch > 2) throw OutOfMemory("GPU out of memory (test)");
    inner_.score_batch(tokens, batch, targets, logprobs, greedy);
  }
  mutable std::vector<std::int64_t> calls;
};

TEST(BatchScoring, EqualsScoringEachSequenceAndRetriesSmallerOnOutOfMemory) {
  test::TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path, {});
  const auto m = load_model(Checkpoint::open(dir.path));
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int32_t> tok(0, static_cast<std::int32_t>(m->spec().vocab_size - 1));
  std::vector<std::vector<std::int32_t>> seqs(5, std::vector<std::int32_t>(20));
  for (auto& s : seqs)
    for (auto& t : s) t = tok(rng);

  std::vector<std::vector<std::uint8_t>> greedy;
  const auto batched = next_token_logprobs_batch(*m, seqs, 0, &greedy);  // one pass of five
  ASSERT_EQ(batched.size(), seqs.size());
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    std::vector<std::uint8_t> g;
    const auto single = next_token_logprobs(*m, seqs[s], &g);
    ASSERT_EQ(batched[s].size(), single.size());
    for (std::size_t i = 0; i < single.size(); ++i) EXPECT_NEAR(batched[s][i], single[i], 1e-5) << s << " " << i;
    EXPECT_EQ(greedy[s], g);
  }

  OomAboveTwo oom(*m);
  const auto retried = next_token_logprobs_batch(oom, seqs);
  EXPECT_EQ(oom.calls, (std::vector<std::int64_t>{5, 3, 2, 2, 1}));  // halve on failure, then keep the smaller size
  ASSERT_EQ(retried.size(), batched.size());
  for (std::size_t s = 0; s < seqs.size(); ++s)  // other batch sizes: other GEMM blockings, same values to rounding
    for (std::size_t i = 0; i < batched[s].size(); ++i) EXPECT_NEAR(retried[s][i], batched[s][i], 1e-5);

  std::vector<std::vector<std::int32_t>> ragged{seqs[0], std::vector<std::int32_t>(seqs[0].begin(), seqs[0].end() - 1)};
  EXPECT_THROW(next_token_logprobs_batch(*m, ragged), BadInput);
}

}  // namespace
}  // namespace lmscope

namespace lmscope {
namespace {

// Every family scores batches in one pass of the block stack (mixers without a fused batched form run sequence by
// sequence inside it): the same log-probabilities as scoring each sequence alone.
class BatchScoringFamilies : public ::testing::TestWithParam<const char*> {};

TEST_P(BatchScoringFamilies, EqualsScoringEachSequence) {
  const auto dir = test::refpack_case(GetParam());
  LMSCOPE_REQUIRE_PATH(dir, std::string("refpack ") + GetParam());
  const auto ck = Checkpoint::open(dir);
  const auto m = load_model(ck);
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int32_t> tok(0, static_cast<std::int32_t>(m->spec().vocab_size - 1));
  std::vector<std::vector<std::int32_t>> seqs(3, std::vector<std::int32_t>(70));  // crosses a 64-token chunk
  for (auto& s : seqs)
    for (auto& t : s) t = tok(rng);
  const auto batched = next_token_logprobs_batch(*m, seqs);
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    const auto single = next_token_logprobs(*m, seqs[s]);
    ASSERT_EQ(batched[s].size(), single.size());
    // BitNet rounds activations to 8 bits: products of another shape round differently in float32 and can flip a
    // rounding step (as against the reference, docs/linear-families.md), moving log-probabilities by up to ~1e-2.
    const double tol = std::string(GetParam()) == "fla-bitnet" ? 2e-2 : 1e-4;
    for (std::size_t i = 0; i < single.size(); ++i) EXPECT_NEAR(batched[s][i], single[i], tol) << s << " " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Refpack, BatchScoringFamilies,
                         ::testing::Values("fla-delta_net", "fla-gated_deltanet", "fla-gated_deltanet-h1", "fla-bitnet",
                                           "hf-mamba", "hf-mamba2", "fla-gla", "fla-retnet", "fla-hgrn2", "fla-samba"),
                         [](const auto& info) { return test::gtest_name(info.param); });

}  // namespace
}  // namespace lmscope
