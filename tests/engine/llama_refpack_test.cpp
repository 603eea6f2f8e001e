// Golden tests: every llama case of ../shared/refpack and every other transformers decoder family (hf-mistral,
// hf-qwen2, hf-qwen3, hf-phi3, hf-gemma2, hf-gpt_neox, hf-olmo2, hf-bitnet), in both config layouts, against
// transformers' float32 outputs (logits within 1e-4, hidden states within 1e-4, greedy continuation exact through
// the KV cache). fla's Transformer++ (same blocks, other names) is tested with the other fla cases in
// fla_refpack_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "lmscope/checkpoint.h"
#include "backend/backend.h"
#include "lmscope/model.h"
#include "support/refpack_params.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

struct Case {
  std::string name;
  std::string config;  // which config file plays config.json
  double logits_tol;
  double nll_tol;
  std::string backend = "cpu";
  bool in_repo = false;  // tests/fixtures/refcases (ours) instead of ../shared/refpack
  // Gemma 2's attention soft-cap: the shared pack's reference was computed with transformers' default SDPA
  // attention, which ignores it; the test with it on is RefpackGemma2Eager.
  bool attention_softcap = true;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << " " << c.config << " " << c.backend; }

std::string case_label(const testing::TestParamInfo<Case>& info) {
  const std::string& c = info.param.config;
  return test::gtest_name(info.param.name + "_" + (c == "config.json" ? "v4" : c == "config.v5.json" ? "v5" : "tf5") + "_" +
                         info.param.backend);
}

class RefpackLlama : public testing::TestWithParam<Case> {};

constexpr const char* kTransformersFamilyCases[] = {"hf-mistral", "hf-qwen2",    "hf-qwen3", "hf-phi3",
                                                    "hf-gemma2",  "hf-gpt_neox", "hf-olmo2"};

// A view of the case folder with `config` as its config.json (weights linked, not copied).
fs::path staged_folder(const fs::path& src, const std::string& config, const TempDir& tmp) {
  if (config == "config.json") return src;
  if (!fs::exists(src / config)) return {};
  for (const auto& e : fs::directory_iterator(src)) {
    const auto name = e.path().filename().string();
    if (name.ends_with(".safetensors") || name == "model.safetensors.index.json")
      fs::create_symlink(e.path(), tmp.path / name);
  }
  fs::copy_file(src / config, tmp.path / "config.json");
  return tmp.path;
}

TEST_P(RefpackLlama, MatchesTheReference) {
  const Case& c = GetParam();
  const fs::path src = c.in_repo ? test::fixture_case(c.name) : test::refpack_case(c.name);
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/" + c.name);
  LMSCOPE_REQUIRE_BACKEND(c.backend);
  TempDir tmp;
  const fs::path folder = staged_folder(src, c.config, tmp);
  if (folder.empty()) GTEST_SKIP() << (src / c.config).string() << " is absent";
  const auto ck = Checkpoint::open(folder);
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  LoadOptions opts{c.backend, "", "fp32"};  // cuda: the verification mode
  opts.attention_softcap = c.attention_softcap;
  const auto model = load_model(ck, opts);
  const std::int64_t V = ck.spec().vocab_size;

  const auto ids_a = test::read_ids(ref, "ids_a");
  std::vector<std::vector<float>> hidden;
  const bool has_hidden = ref.find("hidden_a") != nullptr;
  const auto logits_a = compute_logits(*model, ids_a, has_hidden ? &hidden : nullptr);
  const double diff_a = test::max_abs_diff(logits_a, test::read_f32(ref, "logits_a"));
  EXPECT_LT(diff_a, c.logits_tol) << "logits_a";

  const auto case_json = nlohmann::json::parse(test::read_text(src / "case.json"));
  const double nll = test::mean_nll(logits_a, ids_a, V);
  const double ref_nll = test::mean_nll(test::read_f32(ref, "logits_a"), ids_a, V);
  EXPECT_NEAR(nll, ref_nll, c.nll_tol);
  std::printf("[ measured ] %s %s %s: max|dlogit| a %.2e, |dNLL| %.2e\n", c.name.c_str(), c.config.c_str(), c.backend.c_str(), diff_a,
              std::fabs(nll - ref_nll));
  // case.json's mean_nll_a of the bf16 case disagrees with that case's own logits_a by 1.3e-4 (it was not
  // computed from them); everywhere else the two agree to 1e-15, so it is checked there too.
  if (c.name != "llama-default-bf16-sharded") EXPECT_NEAR(nll, case_json["mean_nll_a"].get<double>(), c.nll_tol);
  EXPECT_EQ(ck.summary().parameter_count, case_json["n_params"].get<std::int64_t>());
  // fused scoring gives the same mean NLL without materialising logits
  const auto lp = next_token_logprobs(*model, ids_a);
  double lp_sum = 0;
  for (double v : lp) lp_sum -= v;
  EXPECT_NEAR(lp_sum / static_cast<double>(lp.size()), nll, 1e-5);
  // Batch scoring (on CUDA one pass for both sequences) gives what scoring each alone gives: in float32 within a few
  // ulps of log-probabilities of magnitude ~10 (the products see other shapes, for which cuBLAS picks other
  // algorithms: hf-qwen2 measured 1.05e-5 on an H200), 3e-5; for a model that rounds its activations to 8 bits
  // (BitNet) another summation order can move a value across a rounding boundary, so as its logits' bound.
  const double paths_tol = std::max(3e-5, c.logits_tol > 1e-3 ? c.logits_tol : 0.0);
  std::vector<std::int32_t> rotated(ids_a.begin() + 7, ids_a.end());
  rotated.insert(rotated.end(), ids_a.begin(), ids_a.begin() + 7);
  const std::vector<std::vector<std::int32_t>> pair{ids_a, rotated};
  const auto batch_lp = next_token_logprobs_batch(*model, pair);
  ASSERT_EQ(batch_lp.size(), 2u);
  EXPECT_LT(test::max_abs_diff(std::vector<float>(batch_lp[0].begin(), batch_lp[0].end()), std::vector<float>(lp.begin(), lp.end())),
            paths_tol);
  const auto lp_rot = next_token_logprobs(*model, rotated);
  EXPECT_LT(test::max_abs_diff(std::vector<float>(batch_lp[1].begin(), batch_lp[1].end()), std::vector<float>(lp_rot.begin(), lp_rot.end())),
            paths_tol);

  if (has_hidden) {
    const auto ref_hidden = test::read_f32(ref, "hidden_a");
    std::vector<float> flat;
    for (const auto& h : hidden) flat.insert(flat.end(), h.begin(), h.end());
    EXPECT_EQ(hidden.size(), static_cast<std::size_t>(ck.spec().num_layers + 1));
    EXPECT_LT(test::max_abs_diff(flat, ref_hidden), c.logits_tol) << "hidden_a";
  }

  const auto ids_b = test::read_ids(ref, "ids_b");
  EXPECT_LT(test::max_abs_diff(compute_logits(*model, ids_b), test::read_f32(ref, "logits_b")), c.logits_tol) << "logits_b";
  const auto greedy = test::read_ids(ref, "greedy_b");
  EXPECT_EQ(generate_greedy(*model, ids_b, static_cast<std::int64_t>(greedy.size())), greedy);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* name : {"llama-default", "llama-linear", "llama-dynamic", "llama-yarn", "llama-longrope", "llama-llama3",
                           "llama-untied-mha", "llama-default-bf16-sharded"})
    for (const char* cfg : {"config.json", "config.v5.json"}) out.push_back({name, cfg, 1e-4, 1e-5});
  // transformers' other decoder families; their transformers-5 config is config.tf5.json
  for (const char* name : kTransformersFamilyCases)
    for (const char* cfg : {"config.json", "config.tf5.json"}) {
      Case c{name, cfg, 1e-4, 1e-5};
      c.attention_softcap = std::string(name) != "hf-gemma2";
      out.push_back(c);
    }
  // transformers' BitNet, packed (bitlinear, offline) and quantised on the fly (autobitlinear, online): ours.
  // Every linear rounds its input to 8 bits, so a float32 difference of 1e-7 in front of a value that lands next
  // to a rounding boundary moves it one step, and attention spreads that to later positions: transformers itself,
  // run in float64 on hf-bitnet, differs from its float32 reference by 4.7e-2 in the logits (position 86 of
  // layer 1 flips). lmscope (float32, another summation order) differs by 6.0e-2 there (positions 86 and 168; the
  // H200 4.7e-2), and on hf-bitnet-online by 2.2e-6 on the CPU where nothing flips but 2.1e-2 on the H200, where
  // something does. Hence the bounds of a quantised model: 0.1 on logits and
  // hidden states, 1e-3 on the mean NLL (measured 2.4e-4); the greedy continuation is still exact.
  for (const char* name : {"hf-bitnet", "hf-bitnet-online"}) {
    Case c{name, "config.json", 0.1, 1e-3};
    c.in_repo = true;
    out.push_back(c);
  }
  // The CUDA backend in float32 mode (TF32 off) is held to the same bounds; these skip without a GPU.
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; ++i) {
    Case c = out[i];
    c.backend = "cuda";
    out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackLlama, testing::ValuesIn(cases()), case_label);

// Gemma 2 as the model defines it, attention scores soft-capped (lmscope's default): against transformers' eager
// attention on the shared pack's hf-gemma2 weights (tests/fixtures/refcases/hf-gemma2-eager.safetensors, made by
// tools/refcases/make_reference_case.py eager). The cap changes these logits by up to 1.1e-2 (the SDPA reference).
class RefpackGemma2Eager : public testing::TestWithParam<std::string> {};

TEST_P(RefpackGemma2Eager, SoftCappedAttentionMatchesEagerTransformers) {
  const fs::path src = test::refpack_case("hf-gemma2");
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/hf-gemma2");
  LMSCOPE_REQUIRE_BACKEND(GetParam());
  const auto ref = SafetensorsFile::open(test::fixture_case("hf-gemma2-eager.safetensors"));
  const auto ck = Checkpoint::open(src);
  const auto model = load_model(ck, {GetParam(), "", "fp32"});
  const auto ids_a = test::read_ids(ref, "ids_a");
  const auto logits_a = compute_logits(*model, ids_a);
  EXPECT_LT(test::max_abs_diff(logits_a, test::read_f32(ref, "logits_a")), 1e-4);
  const std::int64_t V = ck.spec().vocab_size;
  EXPECT_NEAR(test::mean_nll(logits_a, ids_a, V), test::mean_nll(test::read_f32(ref, "logits_a"), ids_a, V), 1e-5);
  const auto ids_b = test::read_ids(ref, "ids_b");
  EXPECT_LT(test::max_abs_diff(compute_logits(*model, ids_b), test::read_f32(ref, "logits_b")), 1e-4);
  const auto greedy = test::read_ids(ref, "greedy_b");
  EXPECT_EQ(generate_greedy(*model, ids_b, static_cast<std::int64_t>(greedy.size())), greedy);
  // the SDPA reference differs: the cap is really applied
  EXPECT_GT(test::max_abs_diff(logits_a, test::read_f32(SafetensorsFile::open(src / "reference.safetensors"), "logits_a")), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackGemma2Eager, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

// The CUDA backend's default bf16 mode against the same float32 references. Weights and activations are rounded to
// bfloat16 (8 significant bits: unit roundoff u = 2^-9 ≈ 2.0e-3) with float32 accumulation and a float32 residual
// stream, so each op adds a relative error of about u.
// - max |Δlogit| ≤ kBf16Logit · max(1, max|reference logit|). A logit is a dot product of a bf16 final hidden state
//   with bf16 weights, behind L layers of such roundings, so its error is some u times the logit scale (max |logit|
//   is about 11 on the tied-embedding cases). Measured on an H100 (2026-11-23): 4.5 to 10.4 u·max|z| over the ten
//   cases (worst fla-gated_deltanet 10.4, llama-longrope 9.7); the bound, 24 u·max|z| (0.53 at max|z| = 11), leaves
//   2.3x headroom. For scale: the logits' standard deviation is about 2.3 there, so this is still well under a
//   tenth of their spread.
// - |mean NLL difference| ≤ kBf16Nll = 1e-2: per-token errors are unbiased roundings that largely cancel in the
//   mean. Measured 2.5e-4 to 2.7e-3 (llama-longrope); 3.7x headroom.
// - the fused scoring path agrees with the logits path: the same bf16 hidden states, only the LM head's tiling
//   differs (measured ≤ 3e-8); bounded at kBf16Paths / 10.
// - batch scoring agrees with single-sequence scoring at kBf16Paths for the families whose batched form is the
//   single form run on more rows (Llama: measured 0; fla-transformer 8.6e-5). Gated DeltaNet's batched mixer
//   evaluates the same function in another order (all rows' projections in one product, whose cuBLASLt algorithm
//   is chosen per shape; the batched convolution sums its taps in another order), so bf16 roundings of the hidden
//   states differ as between any two bf16 evaluations: bounded like the logits, kBf16Logit·max|z| (measured 2.4e-2
//   on an H100, with a fp32-vs-bf16 logit error of 1.1e-1 in the same case; in fp32 mode the two paths agree to
//   1e-5, RefpackFla).
// The SSM / gated-linear families (issue 15; their mixers keep float32 activations, so bf16 here means bf16 weights,
// products and hidden states between blocks) measured on the H200 (2026-12-02), in u·max|z|: fla-delta_net 10.1,
// fla-gated_deltanet-h1 16.4, fla-mamba 3.4, fla-mamba2 4.7, hf-mamba 1.6, hf-mamba2 5.2, fla-gla 11.3, fla-retnet
// 11.0, fla-hgrn2 5.1, fla-samba 7.1 — inside the same bound; |dNLL| ≤ 2.3e-3. With the chunked tensor-core form and
// bf16 activations in the GLA / RetNet / HGRN2 / Mamba2 mixers (H200, 2026-12-02, second session): fla-gla 11.9,
// fla-retnet 12.0, fla-hgrn2 5.3, fla-mamba2 5.0, hf-mamba2 6.6; |dNLL| ≤ 3.1e-3 (fla-retnet). Their batched mixers are their own
// code paths: batch-vs-single up to 1.5e-2 (fla-samba). fla-bitnet: 38.2 u·max|z| and |dNLL| 1.15e-2, see
// kBf16BitNetFactor. With bf16 activations in the Mamba mixer and its fused scoring scan (H200, 2026-12-04):
// fla-mamba 4.0, hf-mamba 2.7, fla-samba 7.6; batch-vs-single 4.5e-2 (fla-samba); fla-bitnet with the one-pass
// norm + quantiser 38.6, |dNLL| 1.12e-2.
// Greedy continuations are reported, not asserted: near-ties may flip under bf16 rounding (llama-yarn's did after
// 5 tokens).
// BitNet b1.58 (fla-bitnet) quantises the input of every projection to 8-bit integers per row: a bf16 rounding
// upstream moves a value across a boundary of that grid now and then, an error of a whole step (max|x|/127, about
// 4u·max|x|) where other families see u. Its bounds are kBf16BitNetFactor times the others: measured 38.2 u·max|z|
// (0.33 of a bound of 0.63 at max|z| 4.5) and |dNLL| 1.15e-2 of 3e-2.
constexpr double kBf16BitNetFactor = 3;
constexpr double kBf16Logit = 24 * 1.0 / 512;
constexpr double kBf16Nll = 1e-2;
constexpr double kBf16Paths = 2e-2;

class RefpackBf16 : public testing::TestWithParam<std::string> {};

TEST_P(RefpackBf16, WithinTheBf16Bounds) {
  const std::string name = GetParam();
  const fs::path src = test::refpack_case(name);
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/" + name);
  LMSCOPE_REQUIRE_BACKEND("cuda");
  const auto ck = Checkpoint::open(src);
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  LoadOptions opts{"cuda", "", "bf16"};
  opts.attention_softcap = name != "hf-gemma2";  // the shared pack's Gemma 2 reference is transformers' SDPA: no cap
  const auto model = load_model(ck, opts);
  const std::int64_t V = ck.spec().vocab_size;
  const auto ids_a = test::read_ids(ref, "ids_a");
  const auto ref_a = test::read_f32(ref, "logits_a");
  const auto logits_a = compute_logits(*model, ids_a);
  double scale = 1;
  for (float v : ref_a) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  const double family = name.find("bitnet") != std::string::npos ? kBf16BitNetFactor : 1.0;
  const double diff = test::max_abs_diff(logits_a, ref_a);
  EXPECT_LT(diff, family * kBf16Logit * scale) << "logits_a";
  const double nll = test::mean_nll(logits_a, ids_a, V), ref_nll = test::mean_nll(ref_a, ids_a, V);
  EXPECT_NEAR(nll, ref_nll, family * kBf16Nll);

  const auto lp = next_token_logprobs(*model, ids_a);
  double fused = 0;
  for (double v : lp) fused -= v;
  fused /= static_cast<double>(lp.size());
  EXPECT_NEAR(fused, nll, kBf16Paths / 10);  // the same bf16 hidden states; only the LM head's tiling differs

  std::vector<std::int32_t> rotated(ids_a.begin() + 7, ids_a.end());
  rotated.insert(rotated.end(), ids_a.begin(), ids_a.begin() + 7);
  const std::vector<std::vector<std::int32_t>> pair{ids_a, rotated};
  const auto batch_lp = next_token_logprobs_batch(*model, pair);
  const auto lp_rot = next_token_logprobs(*model, rotated);
  double path_diff = 0;
  for (std::size_t i = 0; i < lp.size(); ++i)
    path_diff = std::max({path_diff, std::fabs(batch_lp[0][i] - lp[i]), std::fabs(batch_lp[1][i] - lp_rot[i])});
  // Families whose batched mixer is its own code path (projections of all rows in one product, batched convolution
  // or scan kernels): bf16 roundings differ between the two paths as between any two bf16 evaluations.
  const bool reordered = name.rfind("fla-", 0) == 0 ? name != "fla-transformer" : name.rfind("hf-mamba", 0) == 0;
  EXPECT_LT(path_diff, reordered ? family * kBf16Logit * scale : kBf16Paths) << "batch scoring vs one sequence at a time";

  const auto ids_b = test::read_ids(ref, "ids_b");
  const double diff_b = test::max_abs_diff(compute_logits(*model, ids_b), test::read_f32(ref, "logits_b"));
  EXPECT_LT(diff_b, family * kBf16Logit * scale) << "logits_b (through the KV cache path's first append)";
  const auto greedy = test::read_ids(ref, "greedy_b");
  const auto got = generate_greedy(*model, ids_b, static_cast<std::int64_t>(greedy.size()));
  ASSERT_EQ(got.size(), greedy.size());
  std::size_t same_prefix = 0;
  while (same_prefix < got.size() && got[same_prefix] == greedy[same_prefix]) ++same_prefix;
  std::printf("[ measured ] %s bf16: max|dlogit| a %.3e (%.2f u·max|z|, max|z| %.1f) b %.3e, |dNLL| %.2e, fused-vs-logits %.2e, "
              "batch-vs-single %.2e, greedy_b same for %zu of %zu tokens\n",
              name.c_str(), diff, diff / (scale / 512), scale, diff_b, std::fabs(nll - ref_nll), std::fabs(fused - nll), path_diff,
              same_prefix, greedy.size());
}

INSTANTIATE_TEST_SUITE_P(Refpack, RefpackBf16,
                         testing::Values("llama-default", "llama-linear", "llama-dynamic", "llama-yarn", "llama-longrope",
                                         "llama-llama3", "llama-untied-mha", "llama-default-bf16-sharded", "fla-transformer",
                                         "fla-gated_deltanet", "hf-mistral", "hf-qwen2", "hf-qwen3", "hf-phi3", "hf-gemma2",
                                         "hf-gpt_neox", "hf-olmo2", "fla-delta_net", "fla-gated_deltanet-h1",
                                         "fla-mamba", "fla-mamba2", "hf-mamba", "hf-mamba2", "fla-gla", "fla-retnet",
                                         "fla-hgrn2", "fla-samba", "fla-bitnet"),
                         [](const testing::TestParamInfo<std::string>& info) { return test::gtest_name(info.param); });

}  // namespace
}  // namespace lmscope
