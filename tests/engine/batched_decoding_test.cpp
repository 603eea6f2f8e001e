// The batched greedy decoder (generate_greedy_batch / Model::decode_step) against the ground truth of greedy
// decoding, full re-evaluation without any cache: for every family of the reference pack, prompts of different
// lengths decoded together give what re-running each whole sequence gives, and the refpack's greedy_b. Also the
// stop rules and prompt prefill in pieces.
#include <gtest/gtest.h>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;

// Greedy decoding by re-running the whole sequence for every new token (what refpack's greedy_b is).
std::vector<std::int32_t> greedy_by_reevaluation(const Model& m, std::vector<std::int32_t> seq, std::int64_t n) {
  std::vector<std::int32_t> out;
  const auto V = static_cast<std::size_t>(m.spec().vocab_size);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto logits = compute_logits(m, seq);
    const auto next = static_cast<std::int32_t>(argmax(std::span<const float>(logits).subspan(logits.size() - V)));
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

fs::path case_dir(const std::string& name) {
  return name.starts_with("hf-bitnet") ? test::fixture_case(name) : test::refpack_case(name);
}

class BatchedDecoding : public testing::TestWithParam<test::CaseAndBackend> {};

TEST_P(BatchedDecoding, EqualsReevaluationForPromptsOfDifferentLengths) {
  const auto& [name, backend] = GetParam();
  const fs::path dir = case_dir(name);
  LMSCOPE_REQUIRE_PATH(dir, "../shared/refpack/" + name);
  LMSCOPE_REQUIRE_BACKEND(backend);
  const auto ck = Checkpoint::open(dir);
  const auto model = load_model(ck, {backend, "", "fp32"});
  const auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const auto ids_a = test::read_ids(ref, "ids_a"), ids_b = test::read_ids(ref, "ids_b");
  // four prompts: the reference's, and three cut from input a (one a single token)
  const std::vector<std::vector<std::int32_t>> prompts{
      ids_b, {ids_a.begin(), ids_a.begin() + 90}, {ids_a.begin() + 10, ids_a.begin() + 23}, {ids_a.begin() + 5, ids_a.begin() + 6}};
  const std::vector<std::int64_t> max_new{16, 9, 12, 5};
  std::vector<GreedyRequest> reqs;
  for (std::size_t i = 0; i < prompts.size(); ++i) reqs.push_back({prompts[i], max_new[i]});
  GreedyOptions o;
  o.prefill_chunk = 32;  // the 90-token prompt is prefilled in three pieces
  const auto got = generate_greedy_batch(*model, reqs, o);
  ASSERT_EQ(got.size(), prompts.size());
  EXPECT_EQ(got[0], test::read_ids(ref, "greedy_b")) << name;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(got[i], greedy_by_reevaluation(*model, prompts[i], max_new[i])) << name << " prompt " << i;
}

std::vector<test::CaseAndBackend> cases() {
  std::vector<test::CaseAndBackend> out;
  for (const char* name :
       {"llama-default", "llama-dynamic", "llama-longrope", "hf-mistral", "hf-qwen2", "hf-qwen3", "hf-phi3", "hf-gemma2",
        "hf-gpt_neox", "hf-olmo2", "hf-bitnet", "hf-mamba", "hf-mamba2", "fla-transformer", "fla-delta_net",
        "fla-gated_deltanet", "fla-gated_deltanet-h1", "fla-bitnet", "fla-mamba", "fla-mamba2", "fla-gla", "fla-retnet",
        "fla-hgrn2", "fla-samba"})
    for (const char* backend : {"cpu", "cuda"}) out.emplace_back(name, backend);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Refpack, BatchedDecoding, testing::ValuesIn(cases()), test::case_and_backend_name);

TEST(BatchedDecodingRules, StopIdsStopCallbackZeroTokensAndBadPrompts) {
  const fs::path dir = test::refpack_case("llama-default");
  LMSCOPE_REQUIRE_PATH(dir, "../shared/refpack/llama-default");
  const auto model = load_model(Checkpoint::open(dir));
  const std::vector<std::int32_t> p1{5, 6, 7, 8}, p2{9, 10};
  const auto free1 = generate_greedy(*model, p1, 12), free2 = generate_greedy(*model, p2, 12);
  ASSERT_EQ(free1.size(), 12u);
  std::vector<GreedyRequest> reqs{{p1, 12}, {p2, 12}, {p1, 0}};
  GreedyOptions o;
  o.stop_ids = {free1[3]};  // the first sequence stops there, the stop token kept
  o.stop = [&](std::size_t i, std::span<const std::int32_t> g) { return i == 1 && g.size() == 7; };
  std::int64_t steps = 0;
  o.after_step = [&](std::int64_t) { ++steps; };
  const auto got = generate_greedy_batch(*model, reqs, o);
  const auto first_stop = std::find(free1.begin(), free1.end(), free1[3]) - free1.begin();
  EXPECT_EQ(got[0], std::vector<std::int32_t>(free1.begin(), free1.begin() + first_stop + 1));
  const auto stop2 = std::find(free2.begin(), free2.begin() + 7, free1[3]);
  EXPECT_EQ(got[1], std::vector<std::int32_t>(free2.begin(), stop2 == free2.begin() + 7 ? stop2 : stop2 + 1));
  EXPECT_TRUE(got[2].empty());
  EXPECT_GT(steps, 0);
  const std::vector<std::int32_t> empty, outside{1, 999999};
  EXPECT_THROW(generate_greedy_batch(*model, std::vector<GreedyRequest>{{empty, 3}}), BadInput);
  EXPECT_THROW(generate_greedy_batch(*model, std::vector<GreedyRequest>{{outside, 3}}), BadInput);
  // an exception from after_step (cancellation) ends the call
  GreedyOptions cancel;
  cancel.after_step = [](std::int64_t) { throw std::runtime_error("cancelled"); };
  EXPECT_THROW(generate_greedy_batch(*model, std::vector<GreedyRequest>{{p1, 5}}, cancel), std::runtime_error);
}

}  // namespace
}  // namespace lmscope
