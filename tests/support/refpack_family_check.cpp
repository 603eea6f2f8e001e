#include "support/refpack_family_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "lmscope/checkpoint.h"
#include "lmscope/model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope::test {

namespace {

constexpr double kNllTol = 1e-3;

// The body; a void function so the skip macros can return from it.
void check(const std::string& name, const std::string& backend, double tol) {
  const std::filesystem::path src = refpack_case(name);
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/" + name);
  LMSCOPE_REQUIRE_BACKEND(backend);
  const auto ck = Checkpoint::open(src);
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  const auto case_json = nlohmann::json::parse(read_text(src / "case.json"));
  EXPECT_EQ(ck.spec().model_type, case_json["model_type"].get<std::string>());
  EXPECT_EQ(ck.spec().layout, case_json["family_lib"].get<std::string>() == "hf" ? "transformers" : "fla");
  EXPECT_EQ(ck.summary().parameter_count, case_json["n_params"].get<std::int64_t>());
  EXPECT_EQ(parameter_count(ck.spec()), case_json["n_params"].get<std::int64_t>());
  const auto model = load_model(ck, {backend, "", "fp32"});
  const std::int64_t V = ck.spec().vocab_size;

  const auto ids_a = read_ids(ref, "ids_a");
  std::vector<std::vector<float>> hidden;
  const auto logits_a = compute_logits(*model, ids_a, &hidden);
  const auto ref_a = read_f32(ref, "logits_a");
  const double diff_a = max_abs_diff(logits_a, ref_a);
  EXPECT_LT(diff_a, tol) << "logits_a";
  const double nll = mean_nll(logits_a, ids_a, V);
  EXPECT_NEAR(nll, case_json["mean_nll_a"].get<double>(), kNllTol);
  EXPECT_NEAR(nll, mean_nll(ref_a, ids_a, V), kNllTol);
  double fused = 0;  // the fused scoring path gives the same mean NLL
  for (double lp : next_token_logprobs(*model, ids_a)) fused -= lp;
  EXPECT_NEAR(fused / static_cast<double>(ids_a.size() - 1), nll, 1e-5);

  // hidden_a: [0] embeddings, [i] after layer i-1, [L] after the final norm
  std::vector<float> flat;
  for (const auto& h : hidden) flat.insert(flat.end(), h.begin(), h.end());
  EXPECT_EQ(hidden.size(), static_cast<std::size_t>(ck.spec().num_layers + 1));
  const double diff_hidden = max_abs_diff(flat, read_f32(ref, "hidden_a"));
  EXPECT_LT(diff_hidden, tol) << "hidden_a";

  const auto ids_b = read_ids(ref, "ids_b");
  const double diff_b = max_abs_diff(compute_logits(*model, ids_b), read_f32(ref, "logits_b"));
  EXPECT_LT(diff_b, tol) << "logits_b";
  const auto greedy = read_ids(ref, "greedy_b");
  EXPECT_EQ(generate_greedy(*model, ids_b, static_cast<std::int64_t>(greedy.size())), greedy);
  testing::Test::RecordProperty("max_abs_logits_a", std::to_string(diff_a));
  testing::Test::RecordProperty("max_abs_logits_b", std::to_string(diff_b));
  std::printf("[ measured ] %s (%s): max|dlogit| a %.2e b %.2e, hidden %.2e, |dNLL| %.2e (vs case.json)\n", name.c_str(),
              backend.c_str(), diff_a, diff_b, diff_hidden, std::fabs(nll - case_json["mean_nll_a"].get<double>()));
}

}  // namespace

void expect_refpack_case_matches(const std::string& name, const std::string& backend, double tol) {
  check(name, backend, tol);
}

}  // namespace lmscope::test
