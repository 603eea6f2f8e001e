// What a config.json may ask for: stated limits on sizes, epsilons, and agreement with the weight files — each
// refused with a message naming the field, quickly, before anything large is allocated.
#include <gtest/gtest.h>

#include <chrono>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/random_checkpoint.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

std::string spec_error(const json& config) {
  TempDir dir;
  test::write_text(dir.path / "config.json", config.dump());
  try {
    read_model_spec(dir.path / "config.json");
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

// Opens a tiny Llama checkpoint whose config.json is then replaced by `config`; the message, or "accepted".
std::string open_error_with_config(const json& config) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path);
  test::write_text(dir.path / "config.json", config.dump());
  try {
    Checkpoint::open(dir.path);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

void expect_contains(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
}

json mamba2(const json& patch) {
  json j = {{"model_type", "mamba2"}, {"vocab_size", 64},   {"hidden_size", 32}, {"num_hidden_layers", 2},
            {"num_heads", 4},         {"head_dim", 16},     {"n_groups", 2},     {"state_size", 8},
            {"expand", 2},            {"chunk_size", 16},   {"layer_norm_epsilon", 1e-5}};
  j.merge_patch(patch);
  return j;
}

TEST(SpecLimits, LayerCountsBeyondTheLimitOrTheWeightsAreRefusedBeforeAllocating) {
  const auto t0 = std::chrono::steady_clock::now();
  expect_contains(open_error_with_config(test::tiny_llama_config({{"num_hidden_layers", 1000000000}})),
                  {"'num_hidden_layers'", "1000000000", "16384"});
  // Below the stated limit but more than the files hold: compared with the weights before the tensor list exists.
  expect_contains(open_error_with_config(test::tiny_llama_config({{"num_hidden_layers", 16000}})),
                  {"16000 layers", "tensors", "does not belong to these weights"});
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST(SpecLimits, WidthsMustFitTheStoredEmbedding) {
  expect_contains(open_error_with_config(test::tiny_llama_config({{"vocab_size", 1000000}, {"hidden_size", 4096}, {"num_attention_heads", 32}, {"num_key_value_heads", 32}})),
                  {"vocab_size × hidden_size", "does not belong"});
  expect_contains(spec_error(test::tiny_llama_config({{"vocab_size", 1 << 25}})), {"'vocab_size'", "16777216"});
  expect_contains(spec_error(test::tiny_llama_config({{"hidden_size", 1 << 21}})), {"'hidden_size'"});
}

TEST(SpecLimits, IntegersBeyondTwoToTheThirtyOneAreRefusedByName) {
  expect_contains(spec_error(test::tiny_llama_config({{"max_position_embeddings", 1ll << 40}})),
                  {"'max_position_embeddings'", "at most 2147483647"});
  expect_contains(spec_error(test::tiny_llama_config({{"intermediate_size", 18446744073709551615ull}})),
                  {"'intermediate_size'"});
}

TEST(SpecLimits, NormEpsilonMustBePositiveAndFinite) {
  for (const double eps : {-1e-6, 0.0, 1.5}) {
    const auto msg = spec_error(test::tiny_llama_config({{"rms_norm_eps", eps}}));
    expect_contains(msg, {"'rms_norm_eps'", "> 0 and < 1"});
  }
  expect_contains(spec_error(mamba2({{"layer_norm_epsilon", -1.0}})), {"'layer_norm_epsilon'"});
}

TEST(SpecLimits, NumbersBeyondADoubleAndDuplicateKeysAreBadInput) {
  TempDir dir;
  const auto cfg = dir.path / "config.json";
  auto text = test::tiny_llama_config().dump();
  test::write_text(cfg, text.substr(0, text.size() - 1) + ", \"pad_token_id\": 1e400}");
  try {
    read_model_spec(cfg);
    FAIL() << "accepted 1e400";
  } catch (const BadInput& e) {
    expect_contains(e.what(), {cfg.string(), "not valid JSON"});
  }
  test::write_text(cfg, text.substr(0, text.size() - 1) + ", \"vocab_size\": 65}");
  try {
    read_model_spec(cfg);
    FAIL() << "accepted a duplicated vocab_size";
  } catch (const BadInput& e) {
    expect_contains(e.what(), {cfg.string(), "\"vocab_size\"", "twice"});
  }
}

TEST(SpecLimits, Mamba2ChunkSizeAndSlidingWindowsAreBounded) {
  expect_contains(spec_error(mamba2({{"chunk_size", 1000000000000ll}})), {"'chunk_size'", "from 1 to 4096"});
  EXPECT_EQ(spec_error(mamba2({{"chunk_size", 4096}})), "accepted");
  const json fla_transformer = {{"model_type", "transformer"}, {"vocab_size", 64},  {"hidden_size", 32},
                                {"num_hidden_layers", 2},      {"num_heads", 4},     {"norm_eps", 1e-6},
                                {"window_size", 1 << 21}};
  expect_contains(spec_error(fla_transformer), {"'window_size'", "1048576"});
}

// Found by fuzzing (tests/fuzz/regressions/config/expand-v-beyond-int64.json): head_dim · expand_v past int64 was
// cast to an integer (undefined behaviour) before it was checked.
TEST(SpecLimits, WidthRatiosAreBoundedBeforeTheyBecomeSizes) {
  const json gdn = {{"model_type", "gated_deltanet"}, {"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 2},
                    {"num_heads", 2},  {"head_dim", 8},  {"norm_eps", 1e-6}, {"expand_v", 3e30}};
  expect_contains(spec_error(gdn), {"'expand_v'", "a positive ratio of at most 1048576"});
  for (const char* family : {"delta_net", "gla", "retnet"}) {
    json j = gdn;
    j["model_type"] = family;
    j.erase("head_dim");
    expect_contains(spec_error(j), {"'expand_v'", "at most 1048576"});
  }
  expect_contains(spec_error(mamba2({{"expand", 1e300}})), {"'expand'", "at most 1048576"});
  expect_contains(spec_error(mamba2({{"expand", -2}})), {"'expand'", "a positive ratio"});
  EXPECT_EQ(spec_error(mamba2({{"expand", 2}})), "accepted");
}

TEST(SpecLimits, RopeScalingFactorsMustGiveFiniteFrequencies) {
  expect_contains(spec_error(test::tiny_llama_config({{"rope_scaling", {{"rope_type", "linear"}, {"factor", 1e-308}}}})),
                  {"factor", "0.001"});
  expect_contains(spec_error(test::tiny_llama_config(
                      {{"rope_scaling", {{"rope_type", "longrope"}, {"short_factor", {1, 1}}, {"long_factor", {1, 1}}}}})),
                  {"short_factor"});
}

}  // namespace
}  // namespace lmscope
