// Which family a config.json gets, and the checkpoints refused because their config says the weights are something
// lmscope does not compute: another class in `architectures`, custom code in auto_map, a quantization_config the
// family does not read, a 1bitLLM-style BitNet reproduction. --force-family (Checkpoint::open's force_family)
// overrides the choice, and the spec records it.
#include <gtest/gtest.h>

#include <set>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string refusal(const nlohmann::json& config, const std::string& force = "") {
  TempDir tmp;
  test::write_text(tmp.path / "config.json", config.dump());
  try {
    read_model_spec(tmp.path / "config.json", force);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(FamilySelection, OneBitLlmBitnetReproductionIsRefused) {
  // 1bitLLM/bitnet_b1_58-*: model_type llama, its own BitnetForCausalLM and weight_bits / input_bits
  const auto msg = refusal(test::tiny_llama_config(
      {{"architectures", {"BitnetForCausalLM"}}, {"weight_bits", 1}, {"input_bits", 8}}));
  EXPECT_NE(msg.find("weight_bits"), std::string::npos) << msg;
  EXPECT_NE(msg.find("BitNet reproduction"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--force-family llama"), std::string::npos) << msg;
}

TEST(FamilySelection, UnknownArchitectureIsRefusedNamingWhatLmscopeComputes) {
  const auto msg = refusal(test::tiny_llama_config({{"architectures", {"LlamaForSequenceClassification"}}}));
  EXPECT_NE(msg.find("field 'architectures'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LlamaForCausalLM"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'LlamaForSequenceClassification'"), std::string::npos) << msg;
  EXPECT_EQ(refusal(test::tiny_llama_config({{"architectures", {"LlamaForCausalLM"}}})), "accepted");
}

TEST(FamilySelection, QuantizationConfigIsRefusedEvenWhenForced) {
  const nlohmann::json q{{"quant_method", "gptq"}, {"bits", 4}};
  const auto msg = refusal(test::tiny_llama_config({{"quantization_config", q}}));
  EXPECT_NE(msg.find("quantization_config"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gptq"), std::string::npos) << msg;
  EXPECT_NE(refusal(test::tiny_llama_config({{"quantization_config", q}}), "llama").find("gptq"), std::string::npos);
}

TEST(FamilySelection, AutoMapCustomCodeIsRefusedUnlessItIsTheNativeClass) {
  const auto custom = refusal(test::tiny_llama_config(
      {{"architectures", {"LlamaForCausalLM"}}, {"auto_map", {{"AutoModelForCausalLM", "modeling_mine.MyLlamaForCausalLM"}}}}));
  EXPECT_NE(custom.find("field 'auto_map'"), std::string::npos) << custom;
  EXPECT_NE(custom.find("modeling_mine.MyLlamaForCausalLM"), std::string::npos) << custom;
  // Phi-3's published checkpoints still carry auto_map to the code that preceded transformers' own Phi3ForCausalLM
  EXPECT_EQ(refusal(test::tiny_llama_config({{"model_type", "phi3"},
                                             {"architectures", {"Phi3ForCausalLM"}},
                                             {"auto_map", {{"AutoConfig", "configuration_phi3.Phi3Config"},
                                                           {"AutoModelForCausalLM", "modeling_phi3.Phi3ForCausalLM"}}}})),
            "accepted");
}

TEST(FamilySelection, ForceFamilyLoadsAndIsRecorded) {
  TempDir tmp;
  test::write_text(tmp.path / "config.json",
                   test::tiny_llama_config({{"architectures", {"BitnetForCausalLM"}}, {"weight_bits", 1}}).dump());
  const ModelSpec s = read_model_spec(tmp.path / "config.json", "llama");
  EXPECT_EQ(s.forced_family, "llama");
  EXPECT_EQ(s.family, "llama");
  ASSERT_FALSE(s.details.empty());
  EXPECT_EQ(s.details.front().first, "forced family");
  const auto msg = refusal(test::tiny_llama_config(), "no-such-family");
  EXPECT_NE(msg.find("--force-family: no family 'no-such-family'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gemma2"), std::string::npos) << msg;  // the list of ids
}

TEST(FamilySelection, FlaAndTransformersBitnetAreToldApart) {
  const fs::path fla = test::refpack_case("fla-bitnet");
  LMSCOPE_REQUIRE_PATH(fla, "../shared/refpack/fla-bitnet");
  const ModelSpec a = read_model_spec(fla / "config.json");
  EXPECT_EQ(a.model_type, "bitnet");
  EXPECT_EQ(a.layout, "fla");
  const ModelSpec b = read_model_spec(test::fixture_case("hf-bitnet") / "config.json");
  EXPECT_EQ(b.model_type, "bitnet");
  EXPECT_EQ(b.layout, "transformers");
  // transformers' packed checkpoint: U8 weights counted as four weights per byte, the scales not at all
  const auto ck = Checkpoint::open(test::fixture_case("hf-bitnet"));
  EXPECT_EQ(ck.summary().parameter_count, 411136);
  EXPECT_EQ(ck.summary().ternary_tensors, 14);  // 7 linears × 2 layers
}

TEST(FamilySelection, EveryFamilyIdIsUniqueAndForceable) {
  const auto ids = family_ids();
  std::set<std::string> seen(ids.begin(), ids.end());
  EXPECT_EQ(seen.size(), ids.size());
  for (const char* id : {"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gpt_neox", "olmo2", "bitnet", "fla-bitnet",
                         "fla-transformer", "fla-gated_deltanet", "mamba", "fla-mamba"})
    EXPECT_TRUE(seen.count(id)) << id;
}

}  // namespace
}  // namespace lmscope
