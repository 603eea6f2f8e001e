// config.json normalisation: both RoPE layouts, field errors, unsupported model types.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

ModelSpec spec_of(const json& j) {
  TempDir dir;
  test::write_text(dir.path / "config.json", j.dump());
  return read_model_spec(dir.path / "config.json");
}

std::string error_of(const json& j) {
  try {
    spec_of(j);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Config, ReadsTheLlamaFields) {
  const auto s = spec_of(test::tiny_llama_config());
  EXPECT_EQ(s.family, "llama");
  EXPECT_EQ(s.layout, "transformers");
  EXPECT_EQ(s.vocab_size, 64);
  EXPECT_EQ(s.num_heads, 4);
  EXPECT_EQ(s.num_kv_heads, 2);
  EXPECT_EQ(s.head_dim, 8);
  EXPECT_TRUE(s.tie_word_embeddings);
  EXPECT_EQ(s.rope.type, RopeType::Default);
  EXPECT_EQ(s.max_position_embeddings, 32);
  EXPECT_EQ(*s.bos_token_id, 1);
  EXPECT_EQ(s.eos_token_ids, (std::vector<std::int64_t>{2}));
}

TEST(Config, HeadDimDefaultsToHiddenOverHeadsAndKvHeadsToHeads) {
  auto j = test::tiny_llama_config();
  j.erase("head_dim");
  j.erase("num_key_value_heads");
  const auto s = spec_of(j);
  EXPECT_EQ(s.head_dim, 8);
  EXPECT_EQ(s.num_kv_heads, 4);
}

TEST(Config, BothRopeLayoutsGiveTheSameDescription) {
  const json old_layout = test::tiny_llama_config(
      {{"rope_theta", 500000.0},
       {"rope_scaling", {{"type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 16}}}});
  json v5 = test::tiny_llama_config(
      {{"rope_parameters", {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8}, {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}}}});
  v5.erase("rope_theta");
  const auto a = spec_of(old_layout), b = spec_of(v5);
  EXPECT_EQ(a.rope, b.rope);
  EXPECT_EQ(a.rope.type, RopeType::Llama3);
  EXPECT_EQ(a.rope.theta, 500000.0);
  EXPECT_EQ(*a.rope.original_max_position_embeddings, 16);
}

TEST(Config, RefpackConfigsLoadIdenticallyInBothLayouts) {
  const fs::path shared = test::shared_dir();
  LMSCOPE_REQUIRE_PATH(shared.empty() ? shared : shared / "refpack", "../shared/refpack");
  int compared = 0;
  for (const auto& e : fs::directory_iterator(shared / "refpack")) {
    if (!fs::exists(e.path() / "config.v5.json")) continue;
    const auto a = read_model_spec(e.path() / "config.json");
    const auto b = read_model_spec(e.path() / "config.v5.json");
    EXPECT_EQ(a.rope, b.rope) << e.path();
    EXPECT_EQ(a.head_dim, b.head_dim);
    ++compared;
  }
  EXPECT_GE(compared, 7);
}

TEST(Config, UnsupportedModelTypeListsTheSupportedOnes) {
  const auto msg = error_of(test::tiny_llama_config({{"model_type", "falcon"}}));
  EXPECT_NE(msg.find("unsupported model_type 'falcon'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("llama (transformers)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(Config, FieldErrorsNameTheFieldAndWhatWasExpected) {
  auto j = test::tiny_llama_config();
  j.erase("hidden_size");
  auto msg = error_of(j);
  EXPECT_NE(msg.find("'hidden_size'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("positive integer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"num_hidden_layers", "two"}}));
  EXPECT_NE(msg.find("'num_hidden_layers'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"two\""), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"num_key_value_heads", 3}}));
  EXPECT_NE(msg.find("'num_key_value_heads'"), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"hidden_act", "gelu"}}));
  EXPECT_NE(msg.find("'hidden_act'"), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"rope_scaling", {{"rope_type", "spiral"}}}}));
  EXPECT_NE(msg.find("'rope_scaling.rope_type'"), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"rope_scaling", {{"rope_type", "linear"}}}}));
  EXPECT_NE(msg.find("factor"), std::string::npos) << msg;

  msg = error_of(json::array({1, 2}));
  EXPECT_NE(msg.find("JSON object"), std::string::npos) << msg;

  msg = error_of(test::tiny_llama_config({{"model_type", nullptr}}));
  EXPECT_NE(msg.find("'model_type'"), std::string::npos) << msg;
}

TEST(Config, MalformedJsonNamesTheFile) {
  TempDir dir;
  test::write_text(dir.path / "config.json", "{\"model_type\": \"llama\",");
  try {
    read_model_spec(dir.path / "config.json");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path / "config.json").string()), std::string::npos);
  }
}

TEST(Config, FlaTransformerLayout) {
  const json j = {{"model_type", "transformer"}, {"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 2},
                  {"num_heads", 4}, {"num_kv_heads", 2}, {"hidden_ratio", 4}, {"intermediate_size", nullptr},
                  {"norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"max_position_embeddings", 2048}};
  const auto s = spec_of(j);
  EXPECT_EQ(s.layout, "fla");
  EXPECT_EQ(s.head_dim, 8);
  EXPECT_EQ(s.intermediate_size, 256);  // 32 * 4 * 2/3 = 85, rounded up to a multiple of 256
  json q = j;
  q["qk_norm"] = true;
  EXPECT_NE(error_of(q).find("'qk_norm'"), std::string::npos);
}

}  // namespace
}  // namespace lmscope
