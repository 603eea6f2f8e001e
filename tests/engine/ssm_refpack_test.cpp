// Golden tests for the state-space and gated linear attention families of ../shared/refpack: transformers' Mamba and
// Mamba2 (hf-*: a float32 implementation agrees within 1e-4 on logits) and fla's Mamba, Mamba2, GLA, RetNet, HGRN2
// and Samba (fla-*: 3e-2 on logits and 1e-3 on the mean NLL, refpack/README.md). Multi-token appends run the chunked
// forms; greedy_b is reproduced through token-by-token decoding, i.e. the recurrent forms.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "backend/backend.h"
#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;

constexpr double kNllTol = 1e-3;

// (case, backend): the CUDA variants skip without a GPU.
using SsmCase = test::CaseAndBackend;
class RefpackSsm : public testing::TestWithParam<SsmCase> {};

TEST_P(RefpackSsm, MatchesTheReference) {
  const auto& [name, backend] = GetParam();
  const fs::path src = test::refpack_case(name);
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/" + name);
  LMSCOPE_REQUIRE_BACKEND(backend);
  const double tol = name.rfind("hf-", 0) == 0 ? 1e-4 : 3e-2;
  const auto ck = Checkpoint::open(src);
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  const auto case_json = nlohmann::json::parse(test::read_text(src / "case.json"));
  EXPECT_EQ(ck.spec().model_type, case_json["model_type"].get<std::string>());
  EXPECT_EQ(ck.spec().layout, case_json["family_lib"].get<std::string>() == "hf" ? "transformers" : "fla");
  EXPECT_EQ(ck.summary().parameter_count, case_json["n_params"].get<std::int64_t>());
  EXPECT_EQ(parameter_count(ck.spec()), case_json["n_params"].get<std::int64_t>());
  // fp32 on every backend: these bounds are the refpack's float32 tolerances (CUDA defaults to bf16).
  const auto model = load_model(ck, {backend, "", "fp32"});
  const std::int64_t V = ck.spec().vocab_size;

  const auto ids_a = test::read_ids(ref, "ids_a");
  std::vector<std::vector<float>> hidden;
  const auto logits_a = compute_logits(*model, ids_a, &hidden);
  const auto ref_a = test::read_f32(ref, "logits_a");
  const double diff_a = test::max_abs_diff(logits_a, ref_a);
  EXPECT_LT(diff_a, tol) << "logits_a";
  const double nll = test::mean_nll(logits_a, ids_a, V);
  EXPECT_NEAR(nll, case_json["mean_nll_a"].get<double>(), kNllTol);
  EXPECT_NEAR(nll, test::mean_nll(ref_a, ids_a, V), kNllTol);

  // hidden_a: [0] embeddings, [i] after layer i-1, [L] after the final norm
  std::vector<float> flat;
  for (const auto& h : hidden) flat.insert(flat.end(), h.begin(), h.end());
  EXPECT_EQ(hidden.size(), static_cast<std::size_t>(ck.spec().num_layers + 1));
  const double diff_hidden = test::max_abs_diff(flat, test::read_f32(ref, "hidden_a"));
  EXPECT_LT(diff_hidden, tol) << "hidden_a";

  const auto ids_b = test::read_ids(ref, "ids_b");
  const double diff_b = test::max_abs_diff(compute_logits(*model, ids_b), test::read_f32(ref, "logits_b"));
  EXPECT_LT(diff_b, tol) << "logits_b";
  const auto greedy = test::read_ids(ref, "greedy_b");
  EXPECT_EQ(generate_greedy(*model, ids_b, static_cast<std::int64_t>(greedy.size())), greedy);
  RecordProperty("max_abs_logits_a", std::to_string(diff_a));
  RecordProperty("max_abs_logits_b", std::to_string(diff_b));
  std::printf("[ measured ] %s (%s): max|dlogit| a %.2e b %.2e, hidden %.2e, |dNLL| %.2e (vs case.json)\n", name.c_str(),
              backend.c_str(), diff_a, diff_b, diff_hidden, std::fabs(nll - case_json["mean_nll_a"].get<double>()));
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackSsm,
                         testing::Combine(testing::Values("hf-mamba", "hf-mamba2", "fla-mamba", "fla-mamba2", "fla-gla",
                                                          "fla-retnet", "fla-hgrn2", "fla-samba"),
                                          testing::Values("cpu", "cuda")),
                         test::case_and_backend_name);

}  // namespace
}  // namespace lmscope
