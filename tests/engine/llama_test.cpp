// The Llama family on the CPU backend, on fixtures the tests write: cache consistency, dynamic RoPE, errors.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;
using test::TempDir;

struct Fixture {
  TempDir dir;
  Checkpoint ck;
  explicit Fixture(const json& patch = json::object(), bool full_config = false)
      : ck([&] {
          RandomCheckpointOptions o;
          o.stddev = 0.2f;  // larger than real init so the logits are far from uniform
          write_random_checkpoint((full_config ? patch : test::tiny_llama_config(patch)).dump(), dir.path, o);
          return Checkpoint::open(dir.path);
        }()) {}
};

std::vector<std::int32_t> some_ids(std::size_t n) {
  std::vector<std::int32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<std::int32_t>((i * 37 + 11) % 64);
  return ids;
}

// Feeding tokens in pieces through the cache must give the logits of one full pass.
void expect_incremental_matches_full(const Model& m, const std::vector<std::int32_t>& ids, double tol) {
  const auto full = compute_logits(m, ids);
  const auto V = static_cast<std::size_t>(m.spec().vocab_size);
  auto seq = m.new_sequence();
  std::vector<float> got, step;
  std::size_t i = 0;
  for (std::size_t piece : {5, 1, 1, 7, 1}) {
    piece = std::min(piece, ids.size() - i);
    seq->append(std::span(ids).subspan(i, piece), AppendOutput{&step, false, nullptr});
    got.insert(got.end(), step.begin(), step.end());
    i += piece;
  }
  while (i < ids.size()) {
    seq->append(std::span(ids).subspan(i, 1), AppendOutput{&step, false, nullptr});
    got.insert(got.end(), step.begin(), step.end());
    ++i;
  }
  ASSERT_EQ(got.size(), ids.size() * V);
  EXPECT_LT(test::max_abs_diff(got, full), tol);
  EXPECT_EQ(seq->length(), static_cast<std::int64_t>(ids.size()));
}

TEST(Llama, KvCacheMatchesFullForward) {
  Fixture f;
  const auto m = load_model(f.ck);
  expect_incremental_matches_full(*m, some_ids(30), 1e-4);
}

TEST(Llama, KvCacheGrowsPastItsFirstCapacity) {
  Fixture f(json{{"max_position_embeddings", 4096}});
  const auto m = load_model(f.ck);
  expect_incremental_matches_full(*m, some_ids(300), 1e-4);
}

TEST(Llama, DynamicRopeRebuildsTheCacheWhenFrequenciesChange) {
  // max_position_embeddings 32: from token 33 on, every step changes the frequencies. Decoding must equal
  // re-running the whole sequence at each length (what the reference's greedy_b does).
  Fixture f(json{{"rope_scaling", {{"rope_type", "dynamic"}, {"factor", 2.0}}}});
  const auto m = load_model(f.ck);
  const auto ids = some_ids(40);
  auto seq = m->new_sequence();
  std::vector<float> step;
  seq->append(std::span(ids).subspan(0, 30), AppendOutput{&step, true, nullptr});
  for (std::size_t n = 31; n <= ids.size(); ++n) {
    seq->append(std::span(ids).subspan(n - 1, 1), AppendOutput{&step, true, nullptr});
    const auto full = compute_logits(*m, std::span(ids).subspan(0, n));
    const std::vector<float> last(full.end() - 64, full.end());
    ASSERT_LT(test::max_abs_diff(step, last), 1e-4) << "length " << n;
  }
  // and the rescaling really happens: past 32 tokens dynamic differs from default
  const auto dyn = compute_logits(*m, ids);
  const auto def = compute_logits(*load_model(f.ck, {"cpu", "default"}), ids);
  EXPECT_GT(test::max_abs_diff(dyn, def), 1e-3);
}

TEST(Llama, BiasesStayConsistentThroughTheCache) {
  Fixture f(json{{"attention_bias", true}, {"mlp_bias", true}});
  const auto m = load_model(f.ck);
  expect_incremental_matches_full(*m, some_ids(20), 1e-4);
}

json fla_transformer_config(const json& patch) {
  json j = {{"model_type", "transformer"}, {"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 2},
            {"num_heads", 4}, {"num_kv_heads", 2}, {"intermediate_size", 48}, {"norm_eps", 1e-6},
            {"rope_theta", 10000.0}, {"max_position_embeddings", 2048}, {"tie_word_embeddings", false}};
  j.merge_patch(patch);
  return j;
}

TEST(Llama, SlidingWindowLimitsWhatEachQuerySees) {
  Fixture windowed(fla_transformer_config({{"window_size", 6}, {"qkv_bias", true}}), true);
  const auto m = load_model(windowed.ck);
  const auto ids = some_ids(20);
  expect_incremental_matches_full(*m, ids, 1e-4);
  // Same weights without the window: identical for the first 6 positions, different after.
  TempDir plain;
  std::filesystem::copy(windowed.dir.path / "model.safetensors", plain.path / "model.safetensors");
  test::write_text(plain.path / "config.json", fla_transformer_config({{"qkv_bias", true}}).dump());
  const auto a = compute_logits(*m, ids), b = compute_logits(*load_model(Checkpoint::open(plain.path)), ids);
  const std::size_t row = 64;
  EXPECT_LT(test::max_abs_diff(std::vector<float>(a.begin(), a.begin() + 6 * row), std::vector<float>(b.begin(), b.begin() + 6 * row)), 1e-6);
  EXPECT_GT(test::max_abs_diff(std::vector<float>(a.begin() + 6 * row, a.end()), std::vector<float>(b.begin() + 6 * row, b.end())), 1e-4);
}

TEST(Llama, RopeOverrideChangesTheResultAndDefaultOverrideIsIdentity) {
  Fixture f;
  const auto ids = some_ids(24);
  const auto base = compute_logits(*load_model(f.ck), ids);
  EXPECT_EQ(compute_logits(*load_model(f.ck, {"cpu", "default"}), ids), base);
  const auto lin = compute_logits(*load_model(f.ck, {"cpu", "linear:factor=4"}), ids);
  EXPECT_GT(test::max_abs_diff(lin, base), 1e-3);
  EXPECT_THROW(load_model(f.ck, {"cpu", "linear"}), BadInput);  // linear needs a factor
  EXPECT_THROW(load_model(f.ck, {"gpu", ""}), BadInput);
}

TEST(Llama, HiddenStatesFollowTransformersLayout) {
  Fixture f;
  const auto m = load_model(f.ck);
  std::vector<std::vector<float>> hidden;
  const auto ids = some_ids(6);
  compute_logits(*m, ids, &hidden);
  ASSERT_EQ(hidden.size(), 3u);  // embeddings, after layer 0, after the final norm
  for (const auto& h : hidden) EXPECT_EQ(h.size(), 6u * 32u);
  const auto embed = f.ck.tensor("model.embed_tokens.weight").to_f32();
  for (int c = 0; c < 32; ++c) EXPECT_EQ(hidden[0][static_cast<std::size_t>(c)], embed[static_cast<std::size_t>(ids[0] * 32 + c)]);
}

TEST(Llama, OutOfVocabularyTokenIsBadInput) {
  Fixture f;
  const auto m = load_model(f.ck);
  const std::vector<std::int32_t> ids{1, 2, 64};
  try {
    compute_logits(*m, ids);
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("token id 64 at position 2"), std::string::npos) << e.what();
  }
}

TEST(Llama, GreedyGenerationFollowsTheArgmaxOfFullPasses) {
  Fixture f;
  const auto m = load_model(f.ck);
  std::vector<std::int32_t> ids = some_ids(7);
  const auto gen = generate_greedy(*m, ids, 10);
  ASSERT_EQ(gen.size(), 10u);
  for (auto g : gen) {
    const auto logits = compute_logits(*m, ids);
    EXPECT_EQ(argmax(std::span(logits).subspan(logits.size() - 64)), g);
    ids.push_back(g);
  }
  EXPECT_TRUE(generate_greedy(*m, some_ids(3), 0).empty());
  EXPECT_THROW(generate_greedy(*m, {}, 3), BadInput);
}

TEST(Llama, ArgmaxTakesTheFirstOfEqualValues) {
  const std::vector<float> v{1, 3, 3, 2};
  EXPECT_EQ(argmax(v), 1);
}

}  // namespace
}  // namespace lmscope
