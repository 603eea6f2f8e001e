// The compare task's per-token quantities (KL(base ‖ model), top-1 agreement, NLLs) against a direct
// double-precision computation from full logits rows, the lockstep block scoring against one full pass, and the
// packed per-token values units store.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend/logits_comparison.h"
#include "eval/model_comparison.h"
#include "eval/packed_floats.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

struct Direct {
  double kl = 0, nll = 0, base_nll = 0;
  bool same_top = false;
};

// The definitions written out in double: log-softmax of each row, Σ p (log p − log q), argmax (first on ties).
Direct direct(const float* b, const float* m, std::size_t V, std::int32_t target) {
  auto log_softmax = [V](const float* z) {
    double mx = z[0];
    for (std::size_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(z[v]));
    double s = 0;
    for (std::size_t v = 0; v < V; ++v) s += std::exp(z[v] - mx);
    std::vector<double> out(V);
    for (std::size_t v = 0; v < V; ++v) out[v] = z[v] - mx - std::log(s);
    return out;
  };
  const auto lb = log_softmax(b), lm = log_softmax(m);
  Direct d;
  for (std::size_t v = 0; v < V; ++v) d.kl += std::exp(lb[v]) * (lb[v] - lm[v]);
  std::size_t ab = 0, am = 0;
  for (std::size_t v = 1; v < V; ++v) {
    if (b[v] > b[ab]) ab = v;
    if (m[v] > m[am]) am = v;
  }
  d.same_top = ab == am;
  d.nll = -lm[static_cast<std::size_t>(target)];
  d.base_nll = -lb[static_cast<std::size_t>(target)];
  return d;
}

TEST(CompareLogits, MatchesTheDefinitionComputedInDouble) {
  std::mt19937 rng(3);
  for (const std::size_t V : {2u, 17u, 1000u, 50000u}) {
    for (const float scale : {0.1f, 3.0f, 30.0f}) {
      std::normal_distribution<float> n(0.0f, scale);
      std::vector<float> b(V), m(V);
      for (std::size_t v = 0; v < V; ++v) {
        b[v] = n(rng);
        m[v] = b[v] + 0.3f * n(rng);
      }
      const auto target = static_cast<std::int32_t>(V / 3);
      const auto got = compare_logits_row(b, m, target);
      const auto want = direct(b.data(), m.data(), V, target);
      EXPECT_NEAR(got.kl, want.kl, 1e-6 + 1e-6 * want.kl) << "V " << V << " scale " << scale;
      EXPECT_NEAR(got.nll, want.nll, 1e-6 * (1 + std::abs(want.nll)));
      EXPECT_NEAR(got.base_nll, want.base_nll, 1e-6 * (1 + std::abs(want.base_nll)));
      EXPECT_EQ(got.same_top, want.same_top);
      EXPECT_GT(got.kl, 0.0);
    }
  }
}

TEST(CompareLogits, IdenticalRowsGiveZeroAndAgreeAndTiesPickTheFirstIndex) {
  const std::vector<float> a{1.0f, 5.0f, -2.0f, 5.0f, 0.5f};
  const auto same = compare_logits_row(a, a, 2);
  EXPECT_EQ(same.kl, 0.0);
  EXPECT_TRUE(same.same_top);
  EXPECT_EQ(same.nll, same.base_nll);
  // Index 1 and 3 tie in `a`; the model prefers 3 strictly: a disagreement.
  const std::vector<float> b{1.0f, 5.0f, -2.0f, 5.1f, 0.5f};
  EXPECT_FALSE(compare_logits_row(a, b, 2).same_top);
  // No target: KL and agreement only.
  const auto none = compare_logits_row(a, b, -1);
  EXPECT_EQ(none.nll, 0.0);
  EXPECT_GT(none.kl, 0.0);
}

TEST(PackedFloats, RoundTripEveryLengthAndRefuseWhatIsNotBase64OfFloats) {
  for (std::size_t n = 0; n < 7; ++n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) * -1.25f + 1e-30f;
    const auto packed = eval::pack_floats(v);
    EXPECT_EQ(packed.size() % 4, 0u);
    EXPECT_EQ(eval::unpack_floats(packed, "t"), v);
  }
  EXPECT_EQ(eval::pack_floats(std::vector<float>{1.0f}), "AACAPw==");  // 0x3f800000, little-endian
  EXPECT_THROW(eval::unpack_floats("AACAPw=", "t"), BadInput);    // not a multiple of 4
  EXPECT_THROW(eval::unpack_floats("AAC*Pw==", "t"), BadInput);   // not the alphabet
  EXPECT_THROW(eval::unpack_floats("AA==AAAA", "t"), BadInput);   // padding inside
  EXPECT_THROW(eval::unpack_floats("AAAA", "t"), BadInput);       // 3 bytes: not whole floats
}

class CompareWindow : public ::testing::Test {
 protected:
  std::unique_ptr<Model> tiny(const std::string& name, std::uint64_t seed, std::int64_t vocab = 256) {
    const auto dir = tmp.path / name;
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", vocab}, {"max_position_embeddings", 128}}).dump(), dir,
                            {.seed = seed, .stddev = 0.5f});
    checkpoints.push_back(std::make_unique<Checkpoint>(Checkpoint::open(dir)));
    return load_model(*checkpoints.back());
  }
  test::TempDir tmp;
  std::vector<std::unique_ptr<Checkpoint>> checkpoints;
};

TEST_F(CompareWindow, BlocksReadInLockstepMatchOneFullPassOfEachModel) {
  const auto model = tiny("m", 7), base = tiny("b", 8);
  std::mt19937 rng(1);
  std::vector<std::int32_t> ids(41);
  for (auto& t : ids) t = static_cast<std::int32_t>(rng() % 256);
  const std::span<const std::int32_t> input(ids.data(), 40);
  std::vector<std::int32_t> targets(ids.begin() + 1, ids.end());
  targets[5] = -1;
  const auto lm = compute_logits(*model, input), lb = compute_logits(*base, input);
  eval::TaskEnv env;
  std::int64_t read = 0;
  env.on_tokens = [&](std::int64_t n) { read += n; };
  for (const std::int64_t rows : {0, 1, 7, 40}) {
    read = 0;
    const auto got = eval::compare_window(*model, *base, input, targets, env, rows);
    ASSERT_EQ(got.size(), 40u);
    EXPECT_EQ(read, 80);
    int agree = 0;
    for (std::size_t p = 0; p < 40; ++p) {
      const auto want = direct(lb.data() + p * 256, lm.data() + p * 256, 256, targets[p] < 0 ? 0 : targets[p]);
      EXPECT_NEAR(got[p].kl, want.kl, 1e-5 * (1 + want.kl)) << "rows " << rows << " position " << p;
      EXPECT_EQ(got[p].same_top, want.same_top) << "rows " << rows << " position " << p;
      agree += want.same_top;
      if (targets[p] < 0) {
        EXPECT_EQ(got[p].nll, 0.0);
        continue;
      }
      // One full pass against blocks on a cache: float32 rounding, relative to NLLs of ~15 nats here.
      EXPECT_NEAR(got[p].nll, want.nll, 1e-5 * (1 + want.nll));
      EXPECT_NEAR(got[p].base_nll, want.base_nll, 1e-5 * (1 + want.base_nll));
    }
    EXPECT_LT(agree, 40);  // two different random models: a test that could fail
  }
  // A model against itself: KL exactly 0 and full agreement, whatever the blocks.
  const auto self = eval::compare_window(*model, *model, input, targets, env, 7);
  for (const auto& c : self) {
    EXPECT_EQ(c.kl, 0.0);
    EXPECT_TRUE(c.same_top);
    EXPECT_EQ(c.nll, c.base_nll);
  }
}

TEST_F(CompareWindow, DifferentVocabulariesAreRefusedNamingBoth) {
  const auto model = tiny("m", 7, 256), base = tiny("b", 8, 300);
  const std::vector<std::int32_t> ids{1, 2, 3, 4};
  try {
    eval::compare_window(*model, *base, ids, ids, {});
    FAIL() << "no error";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("256 logits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmscope
