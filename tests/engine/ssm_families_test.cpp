// Mamba, Mamba2 (both layouts), GLA, RetNet, HGRN2 and Samba on fixtures the tests write: scoring in pieces (chunked
// forms for many tokens, recurrent forms for one) equals one pass, greedy decoding follows full passes, switches reach
// the computation, tensor naming is read from the checkpoint, unsupported switches fail naming the field, and the
// parameter count of a published Mamba.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "support/family_fixture.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;
using test::TempDir;

constexpr std::int64_t kVocab = 64;

json with(json j, const json& patch) {
  j.merge_patch(patch);
  return j;
}

json mamba_hf(const json& patch = json::object()) {
  return with({{"model_type", "mamba"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 2},
               {"state_size", 8}, {"expand", 2}, {"conv_kernel", 4}, {"time_step_rank", 4}, {"layer_norm_epsilon", 1e-5}},
              patch);
}
json mamba_fla(const json& patch = json::object()) {
  return with({{"model_type", "mamba"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 2},
               {"state_size", 8}, {"expand", 2}, {"conv_kernel", 4}, {"dt_rank", 4}, {"norm_eps", 1e-5},
               {"tie_word_embeddings", false}},
              patch);
}
json mamba2_hf(const json& patch = json::object()) {
  return with({{"model_type", "mamba2"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 2},
               {"num_heads", 4}, {"head_dim", 16}, {"n_groups", 2}, {"state_size", 8}, {"expand", 2},
               {"chunk_size", 16}, {"layer_norm_epsilon", 1e-5}},
              patch);
}
json gla(const json& patch = json::object()) {
  return with({{"model_type", "gla"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 2},
               {"num_heads", 2}, {"intermediate_size", 48}, {"norm_eps", 1e-6}, {"fuse_norm", false}},
              patch);
}
json retnet(const json& patch = json::object()) {
  return with({{"model_type", "retnet"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 2},
               {"num_heads", 2}, {"intermediate_size", 48}, {"norm_eps", 1e-6}, {"fuse_norm", false}},
              patch);
}
json hgrn2(const json& patch = json::object()) {
  return with({{"model_type", "hgrn2"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 3},
               {"expand_ratio", 8}, {"intermediate_size", 48}, {"norm_eps", 1e-6}},
              patch);
}
const json kWindowAttn = {{"layers", {1}}, {"num_heads", 4}, {"num_kv_heads", 2}, {"window_size", 6}};
json samba(const json& patch = json::object()) {
  return with({{"model_type", "samba"}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"num_hidden_layers", 3},
               {"state_size", 8}, {"expand", 2}, {"time_step_rank", 4}, {"hidden_ratio", 4}, {"norm_eps", 1e-5},
               {"attn", kWindowAttn}},
              patch);
}

using Fixture = test::RandomModelFixture;
using test::pieces_vs_full;

std::vector<std::int32_t> some_ids(std::size_t n) { return test::some_ids(n, kVocab); }

using Variant = test::ConfigVariant;

class SsmPiecesEqualWhole : public testing::TestWithParam<Variant> {};

TEST_P(SsmPiecesEqualWhole, ChunkedAndRecurrentFormsAgree) {
  Fixture f(GetParam().config);
  const auto m = load_model(f.ck);
  EXPECT_LT(pieces_vs_full(*m, some_ids(100)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    Families, SsmPiecesEqualWhole,
    testing::Values(Variant{"mamba_transformers", mamba_hf()}, Variant{"mamba_fla", mamba_fla()},
                    Variant{"mamba_bias_no_conv_bias", mamba_hf({{"use_bias", true}, {"use_conv_bias", false}})},
                    Variant{"mamba2_groups", mamba2_hf()},
                    Variant{"mamba2_fla_D_per_channel", with(mamba2_hf({{"D_has_hdim", true}, {"norm_eps", 1e-5}}),
                                                             {{"layer_norm_epsilon", nullptr}})},
                    Variant{"gla", gla()}, Variant{"gla_conv_no_output_gate", gla({{"use_short_conv", true}, {"use_output_gate", false}})},
                    Variant{"gla_hybrid", gla({{"num_hidden_layers", 3}, {"attn", kWindowAttn}})},
                    Variant{"retnet", retnet()}, Variant{"retnet_conv", retnet({{"use_short_conv", true}})},
                    Variant{"hgrn2", hgrn2()}, Variant{"hgrn2_conv_no_lower_bound", hgrn2({{"use_short_conv", true}, {"use_lower_bound", false}})},
                    Variant{"samba", samba()}),
    test::variant_name);

TEST(SsmFamilies, GreedyDecodingThroughTheRecurrentFormsFollowsFullPasses) {
  for (const json& cfg : {mamba_hf(), mamba2_hf(), gla(), retnet(), hgrn2(), samba()}) {
    Fixture f(cfg);
    const auto m = load_model(f.ck);
    std::vector<std::int32_t> ids = some_ids(5);
    const auto gen = generate_greedy(*m, ids, 10);  // past Samba's window of 6
    ASSERT_EQ(gen.size(), 10u);
    for (auto g : gen) {
      const auto logits = compute_logits(*m, ids);
      EXPECT_EQ(argmax(std::span(logits).subspan(logits.size() - kVocab)), g) << cfg["model_type"];
      ids.push_back(g);
    }
  }
}

TEST(SsmFamilies, ConfigDialectDecidesLayoutAndHiddenStates) {
  // the same weights under transformers' and fla's config keys: same logits; transformers returns each block's output
  // (no embeddings) as hidden states, fla the embeddings first
  Fixture hf(mamba_hf({{"tie_word_embeddings", false}}));
  TempDir other;
  const auto fla_ck = hf.with_config(mamba_fla(), other);
  EXPECT_EQ(hf.ck.spec().layout, "transformers");
  EXPECT_EQ(fla_ck.spec().layout, "fla");
  const auto ids = some_ids(12);
  std::vector<std::vector<float>> h_hf, h_fla;
  EXPECT_LT(test::max_abs_diff(compute_logits(*load_model(hf.ck), ids, &h_hf), compute_logits(*load_model(fla_ck), ids, &h_fla)), 1e-6);
  ASSERT_EQ(h_hf.size(), 3u);
  ASSERT_EQ(h_fla.size(), 3u);
  const auto embed = hf.ck.tensor("backbone.embeddings.weight").to_f32();
  EXPECT_EQ(h_fla[0][0], embed[static_cast<std::size_t>(ids[0] * 32)]);
  EXPECT_EQ(h_hf[0], h_fla[1]);  // after block 0 in both
  EXPECT_GT(test::max_abs_diff(h_hf[1], h_fla[1]), 1e-3);  // after block 1 vs after block 0
  EXPECT_EQ(h_hf[2], h_fla[2]);  // after the final norm
}

TEST(SsmFamilies, TiedEmbeddingsByDialectDefault) {
  // transformers' MambaConfig ties by default, fla's does not: the tensor list says so
  auto count = [](const json& cfg) {
    TempDir dir;
    test::write_text(dir.path / "config.json", cfg.dump());
    return read_model_spec(dir.path / "config.json").tie_word_embeddings;
  };
  EXPECT_TRUE(count(mamba_hf()));
  json fla = mamba_fla();
  fla.erase("tie_word_embeddings");
  EXPECT_FALSE(count(fla));
}

// Copies a checkpoint with every tensor name passed through rename.
void write_renamed(const Checkpoint& ck, const std::filesystem::path& dir, const std::function<std::string(std::string)>& rename) {
  std::vector<TensorToWrite> out;
  for (const auto& [name, view] : ck.tensors()) out.push_back(tensor_from_f32(rename(name), DType::F32, view.shape, view.to_f32()));
  write_safetensors(dir / "model.safetensors", out);
  std::filesystem::copy(ck.dir() / "config.json", dir / "config.json");
}

TEST(SsmFamilies, TensorPrefixComesFromTheCheckpoint) {
  Fixture f(mamba2_hf());
  const auto ids = some_ids(10);
  const auto reference = compute_logits(*load_model(f.ck), ids);
  auto swap_prefix = [](const std::string& to) {
    return [to](std::string n) { return n.rfind("backbone.", 0) == 0 ? to + n.substr(9) : n; };
  };
  TempDir model_dir;  // fla's usual decoder prefix
  write_renamed(f.ck, model_dir.path, swap_prefix("model."));
  const auto renamed = Checkpoint::open(model_dir.path);
  EXPECT_EQ(compute_logits(*load_model(renamed), ids), reference);
  TempDir embedding_dir;  // state-spaces' original name for the embeddings
  write_renamed(f.ck, embedding_dir.path, [](std::string n) { return n == "backbone.embeddings.weight" ? "backbone.embedding.weight" : n; });
  EXPECT_EQ(compute_logits(*load_model(Checkpoint::open(embedding_dir.path)), ids), reference);
  TempDir neither;
  write_renamed(f.ck, neither.path, swap_prefix("transformer."));
  try {
    Checkpoint::open(neither.path);
    ADD_FAILURE() << "accepted a checkpoint with neither prefix";
  } catch (const BadInput& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("backbone.embeddings.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("model.embeddings.weight"), std::string::npos) << what;
  }
}

TEST(SsmFamilies, SwitchesWithoutTensorsChangeTheOutputs) {
  const auto ids = some_ids(30);
  Fixture g(gla());
  const auto base = compute_logits(*load_model(g.ck), ids);
  TempDir o1;
  EXPECT_GT(test::max_abs_diff(compute_logits(*load_model(g.with_config(gla({{"gate_logit_normalizer", 4}}), o1)), ids), base), 1e-3);
  Fixture m(mamba2_hf());
  const auto m_base = compute_logits(*load_model(m.ck), ids);
  TempDir o2;  // the chunk size is not one of them: the math does not depend on it
  EXPECT_LT(test::max_abs_diff(compute_logits(*load_model(m.with_config(mamba2_hf({{"chunk_size", 7}}), o2)), ids), m_base), 1e-4);
}

TEST(SsmFamilies, SpecDescribesTheMixer) {
  Fixture m(mamba_hf());
  EXPECT_EQ(m.ck.spec().family, "mamba");
  EXPECT_EQ(m.ck.spec().mixer, "selective SSM (Mamba)");
  EXPECT_FALSE(m.ck.spec().uses_rope);
  EXPECT_THROW(load_model(m.ck, {"cpu", "linear:factor=2"}), BadInput);  // no RoPE to override
  Fixture m2(mamba2_hf());
  EXPECT_EQ(m2.ck.spec().mixer, "SSD (Mamba2)");
  EXPECT_EQ(m2.ck.spec().num_heads, 4);
  EXPECT_EQ(m2.ck.spec().num_kv_heads, 2);  // B/C groups
  Fixture s(samba());
  EXPECT_EQ(s.ck.spec().layout, "fla");
  EXPECT_EQ(s.ck.spec().attention_layers, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(s.ck.spec().window_size, 6);
  EXPECT_EQ(s.ck.spec().intermediate_size, 256);  // from hidden_ratio 4: 2/3 · 4 · 32 = 85 → 256
  Fixture r(retnet());
  EXPECT_TRUE(r.ck.spec().uses_rope);
  Fixture h(hgrn2());
  EXPECT_EQ(h.ck.spec().num_heads, 4);  // hidden 32 / expand_ratio 8
  std::string all;
  for (const auto& [k, v] : h.ck.spec().details) all += k + ": " + v + "\n";
  EXPECT_NE(all.find("lower bound"), std::string::npos) << all;
}

std::string error_of(const json& config) {
  TempDir dir;
  test::write_text(dir.path / "config.json", config.dump());
  try {
    read_model_spec(dir.path / "config.json");
  } catch (const BadInput& e) {
    return e.what();
  }
  return "accepted";
}

TEST(SsmFamilies, UnsupportedSwitchesNameTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {mamba_hf({{"hidden_act", "gelu"}}), "'hidden_act'"},
      {mamba_hf({{"time_step_rank", "half"}}), "'time_step_rank'"},
      {mamba2_hf({{"head_dim", 8}}), "'head_dim'"},  // 4 · 8 ≠ 2 · 32
      {mamba2_hf({{"n_groups", 3}}), "'n_groups'"},
      {mamba2_hf({{"time_step_limit", {0.0, 0.1}}}), "'time_step_limit'"},
      {gla({{"feature_map", "relu"}}), "'feature_map'"},
      {gla({{"use_gv", true}}), "'use_gv'"},
      {gla({{"clamp_min", -5}}), "'clamp_min'"},
      {gla({{"expand_k", 0.3}}), "'expand_k'"},
      {gla({{"attn_mode", "parallel"}}), "'attn_mode'"},
      {retnet({{"num_kv_heads", 1}}), "'num_kv_heads'"},
      {hgrn2({{"expand_ratio", 5}}), "'expand_ratio'"},
      {samba({{"attn", {{"layers", {3}}, {"num_heads", 4}}}}), "'attn.layers'"},
  };
  for (const auto& [config, field] : cases) {
    const std::string e = error_of(config);
    EXPECT_NE(e.find("config.json: field " + field), std::string::npos) << config.dump() << "\n-> " << e;
  }
  EXPECT_EQ(error_of(mamba2_hf({{"time_step_limit", {0.0, {{"__float__", "Infinity"}}}}})), "accepted");
}

TEST(SsmFamilies, Mamba2HeadsDefaultByDialect) {
  // fla derives num_heads from expand · hidden / head_dim; transformers' default is 128 (which this hidden size
  // cannot hold, so the field is named)
  json fla = with(mamba2_hf({{"norm_eps", 1e-5}}), {{"layer_norm_epsilon", nullptr}, {"num_heads", nullptr}});
  TempDir dir;
  test::write_text(dir.path / "config.json", fla.dump());
  EXPECT_EQ(read_model_spec(dir.path / "config.json").num_heads, 4);  // 2 · 32 / 16
  json hf = mamba2_hf({{"num_heads", nullptr}});
  EXPECT_NE(error_of(hf).find("field 'head_dim'"), std::string::npos) << error_of(hf);
}

TEST(SsmFamilies, ParameterCountOfPublishedMamba) {
  // state-spaces/mamba-130m-hf (config.json as published): 129,135,360 parameters with tied embeddings
  const json cfg = {{"model_type", "mamba"}, {"vocab_size", 50280}, {"hidden_size", 768}, {"num_hidden_layers", 24},
                    {"state_size", 16}, {"expand", 2}, {"conv_kernel", 4}, {"time_step_rank", 48},
                    {"intermediate_size", 1536}, {"layer_norm_epsilon", 1e-5}, {"use_bias", false}, {"use_conv_bias", true},
                    {"tie_word_embeddings", true}};
  TempDir dir;
  test::write_text(dir.path / "config.json", cfg.dump());
  EXPECT_EQ(parameter_count(read_model_spec(dir.path / "config.json")), 129'135'360);
}

}  // namespace
}  // namespace lmscope
