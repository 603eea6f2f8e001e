// The `compare` task end to end through the runner and the results store: its metrics, per-position curves and
// worst tokens against an independent computation from each model's full logits (compute_logits, the `logits`
// command's numbers), on random byte-level Llamas and on refpack models of two families; a model against itself;
// the single-model mode against ppl_vs_length; settings and tokenizer refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/eval/task.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/run/run_spec.h"
#include "lmscope/run/runner.h"
#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;

const char* kText =
    "The harbour lies at the mouth of a small river. Boats come in with the tide and leave before dark. In winter "
    "the quay is quiet; in summer it is full of visitors, nets and gulls. An old mill stands beside the river. Its "
    "wheel turned for two hundred years, grinding wheat for the village. The mill was rebuilt after a flood.";

// What the task should report, computed here from the full logits of each window (double precision).
struct Expected {
  double nll = 0, base_nll = 0, kl = 0, top1 = 0, n = 0;
  std::vector<double> kls, dnll;
  std::vector<double> bucket_nll, bucket_kl, bucket_n;
};

Expected expected(const Model& model, const Model* base, const std::string& text, std::int64_t length, std::int64_t buckets) {
  std::vector<std::int32_t> ids(text.begin(), text.end());
  for (auto& t : ids) t &= 0xff;
  const std::int64_t P = length - 1, width = (P + buckets - 1) / buckets;
  Expected e;
  e.bucket_nll.assign(static_cast<std::size_t>((P + width - 1) / width), 0);
  e.bucket_kl = e.bucket_n = e.bucket_nll;
  const auto V = static_cast<std::size_t>(model.spec().vocab_size);
  for (std::size_t st = 0; st + static_cast<std::size_t>(length) <= ids.size(); st += static_cast<std::size_t>(length)) {
    const std::span<const std::int32_t> in(ids.data() + st, static_cast<std::size_t>(P));
    const auto lm = compute_logits(model, in);
    const auto lb = base ? compute_logits(*base, in) : lm;
    for (std::int64_t p = 0; p < P; ++p) {
      auto lsm = [&](const std::vector<float>& z) {
        const float* r = z.data() + static_cast<std::size_t>(p) * V;
        double mx = r[0], s = 0;
        for (std::size_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(r[v]));
        for (std::size_t v = 0; v < V; ++v) s += std::exp(r[v] - mx);
        std::vector<double> o(V);
        for (std::size_t v = 0; v < V; ++v) o[v] = r[v] - mx - std::log(s);
        return o;
      };
      const auto qm = lsm(lm), qb = lsm(lb);
      const auto target = static_cast<std::size_t>(ids[st + static_cast<std::size_t>(p) + 1]);
      double kl = 0;
      for (std::size_t v = 0; v < V; ++v) kl += std::exp(qb[v]) * (qb[v] - qm[v]);
      const auto top = [&](const std::vector<double>& q) { return std::max_element(q.begin(), q.end()) - q.begin(); };
      e.nll -= qm[target];
      e.base_nll -= qb[target];
      e.kl += kl;
      e.top1 += top(qm) == top(qb);
      e.n += 1;
      e.kls.push_back(kl);
      e.dnll.push_back(qb[target] - qm[target]);
      const auto k = static_cast<std::size_t>(p / width);
      e.bucket_nll[k] -= qm[target];
      e.bucket_kl[k] += kl;
      e.bucket_n[k] += 1;
    }
  }
  return e;
}

class CompareRun : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [name, seed] : {std::pair{"a", 7}, std::pair{"b", 8}})
      write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                                       {"max_position_embeddings", 128}})
                                  .dump(),
                              tmp.path / name, {.seed = static_cast<std::uint64_t>(seed), .stddev = 0.5f});
    corpus = tmp.path / "text.txt";
    test::write_text(corpus, kText);
  }

  run::RunOutcome run(const std::filesystem::path& model, const json& tasks) const {
    const json spec{{"lmscope_run", 1},
                    {"models", {{{"path", model.string()}, {"name", "m"}, {"tokenizer", "bytes"}}}},
                    {"tasks", tasks}};
    run::RunOptions o;
    o.store_path = (tmp.path / ("s" + std::to_string(++runs) + ".sqlite")).string();
    return run::execute_run(run::parse_run_spec(spec, tmp.path.string(), "test spec"), o);
  }

  void check_against_logits(const std::filesystem::path& model_dir, const std::filesystem::path& base_dir,
                            std::int64_t length) {
    const auto out = run(model_dir, json::array({{{"task", "compare"},
                                                  {"data", corpus.string()},
                                                  {"base", base_dir.string()},
                                                  {"length", length},
                                                  {"buckets", 4}}}));
    ASSERT_TRUE(out.complete);
    const auto& r = out.results["results"]["compare"];
    const auto& d = out.results["lmscope"]["details"]["compare"];
    const auto mc = Checkpoint::open(model_dir), bc = Checkpoint::open(base_dir);
    const auto m = load_model(mc), b = load_model(bc);
    const auto e = expected(*m, b.get(), kText, length, 4);
    ASSERT_GT(e.n, 0);
    EXPECT_NEAR(r["ppl,none"].get<double>(), std::exp(e.nll / e.n), 1e-4 * std::exp(e.nll / e.n));
    EXPECT_NEAR(r["base_ppl,none"].get<double>(), std::exp(e.base_nll / e.n), 1e-4 * std::exp(e.base_nll / e.n));
    EXPECT_NEAR(r["kl_mean,none"].get<double>(), e.kl / e.n, 1e-5 * (1 + e.kl / e.n));
    EXPECT_NEAR(r["top1_agreement,none"].get<double>(), e.top1 / e.n, 1e-12);
    EXPECT_NEAR(r["delta_nll_mean,none"].get<double>(), (e.nll - e.base_nll) / e.n, 1e-5);
    auto sorted = e.kls;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_NEAR(r["kl_max,none"].get<double>(), sorted.back(), 1e-5 * (1 + sorted.back()));
    const double mid = (sorted.size() % 2) ? sorted[sorted.size() / 2]
                                           : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    EXPECT_NEAR(r["kl_median,none"].get<double>(), mid, 1e-5 * (1 + mid));
    EXPECT_GT(r["kl_mean_stderr,none"].get<double>(), 0.0);
    // Per-position curves: bucket means of the model's NLL and of KL.
    const auto& pos = d["positions"];
    ASSERT_EQ(pos.size(), e.bucket_n.size());
    for (std::size_t k = 0; k < pos.size(); ++k) {
      EXPECT_EQ(pos[k]["tokens"].get<double>(), e.bucket_n[k]);
      EXPECT_NEAR(pos[k]["nll_mean"].get<double>(), e.bucket_nll[k] / e.bucket_n[k], 1e-5);
      EXPECT_NEAR(pos[k]["kl_mean"].get<double>(), e.bucket_kl[k] / e.bucket_n[k], 1e-5);
    }
    EXPECT_EQ(pos[0]["context_from"].get<int>(), 1);
    EXPECT_EQ(pos.back()["context_to"].get<int>(), length - 1);
    // The worst token is the one the model loses most on against the base.
    ASSERT_FALSE(d["worst"].empty());
    const double worst = *std::max_element(e.dnll.begin(), e.dnll.end());
    EXPECT_NEAR(-d["worst"][0]["delta_nll"].get<double>(), -worst, 1e-4);
    const auto& w0 = d["worst"][0];
    const std::size_t at = w0["window_start"].get<std::size_t>() + w0["context"].get<std::size_t>();
    EXPECT_EQ(w0["text"].get<std::string>(), std::string(1, kText[at]));
    // Histogram counts every token once.
    const auto& h = d["delta_nll_histogram"];
    std::int64_t total = h["below"].get<std::int64_t>() + h["above"].get<std::int64_t>();
    for (const auto& c : h["counts"]) total += c.get<std::int64_t>();
    EXPECT_EQ(static_cast<double>(total), e.n);
    // The token view: text pieces with one value each, the text as it reads.
    const auto& tv = d["token_view"];
    ASSERT_EQ(tv["pieces"].size(), tv["values"].size());
    std::string joined = tv["context_text"].get<std::string>();
    for (const auto& p : tv["pieces"]) joined += p.get<std::string>();
    const auto ws = tv["window_start"].get<std::size_t>() + tv["first_context"].get<std::size_t>() - 1;
    EXPECT_EQ(joined, std::string(kText).substr(ws, joined.size()));
  }

  test::TempDir tmp;
  std::filesystem::path corpus;
  mutable int runs = 0;
};

TEST_F(CompareRun, MetricsCurvesAndWorstTokensMatchTheFullLogitsOfBothModels) {
  check_against_logits(tmp.path / "a", tmp.path / "b", 48);
}

TEST_F(CompareRun, RefpackModelsOfTwoFamiliesMatchTheirFullLogits) {
  const auto llama = test::refpack_case("llama-default"), gdn = test::refpack_case("fla-gated_deltanet");
  LMSCOPE_REQUIRE_PATH(llama, "refpack llama-default");
  LMSCOPE_REQUIRE_PATH(gdn, "refpack fla-gated_deltanet");
  check_against_logits(gdn, llama, 40);
}

TEST_F(CompareRun, AModelAgainstItselfHasZeroKlFullAgreementAndNoLoss) {
  const auto out = run(tmp.path / "a", json::array({{{"task", "compare"}, {"data", corpus.string()}, {"base", (tmp.path / "a").string()},
                                                     {"length", 32}}}));
  ASSERT_TRUE(out.complete);
  const auto& r = out.results["results"]["compare"];
  EXPECT_EQ(r["kl_mean,none"].get<double>(), 0.0);
  EXPECT_EQ(r["kl_max,none"].get<double>(), 0.0);
  EXPECT_EQ(r["top1_agreement,none"].get<double>(), 1.0);
  EXPECT_EQ(r["delta_nll_mean,none"].get<double>(), 0.0);
  EXPECT_EQ(r["ppl,none"].get<double>(), r["base_ppl,none"].get<double>());
}

TEST_F(CompareRun, OneModelAloneGivesThePerplexityPplVsLengthGivesAndAPositionCurve) {
  const auto out = run(tmp.path / "a", json::array({{{"task", "compare"}, {"data", corpus.string()}, {"length", 32}, {"buckets", 31}},
                                                    {{"task", "ppl_vs_length"}, {"data", corpus.string()}, {"lengths", {32}}}}));
  ASSERT_TRUE(out.complete);
  const auto& r = out.results["results"];
  // Per-token NLLs are kept as float32: relative agreement to ~1e-7.
  const double ppl = r["ppl_vs_length"]["ppl@32,none"].get<double>();
  EXPECT_NEAR(r["compare"]["ppl,none"].get<double>(), ppl, 1e-6 * ppl);
  EXPECT_FALSE(r["compare"].contains("kl_mean,none"));
  const auto& d = out.results["lmscope"]["details"]["compare"];
  EXPECT_EQ(d["positions"].size(), 31u);  // one bucket per position
  EXPECT_EQ(d["token_view"]["value"], "nll");
  const auto m = load_model(Checkpoint::open(tmp.path / "a"));
  const auto e = expected(*m, nullptr, kText, 32, 31);
  for (std::size_t k = 0; k < 31; ++k)
    EXPECT_NEAR(d["positions"][k]["nll_mean"].get<double>(), e.bucket_nll[k] / e.bucket_n[k], 1e-5);
}

TEST_F(CompareRun, BadSettingsAndAnotherTokenizerAreRefusedBeforeAnyWork) {
  auto error_of = [&](const json& task) {
    try {
      run(tmp.path / "a", json::array({task}));
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const json base{{"task", "compare"}, {"data", corpus.string()}, {"length", 32}};
  json b = base;
  b["base"] = "/no/such/model";
  EXPECT_NE(error_of(b).find("/no/such/model"), std::string::npos);
  b = base;
  b["base"] = 3;
  EXPECT_NE(error_of(b).find("'base'"), std::string::npos);
  b = base;
  b["length"] = 100000;
  EXPECT_NE(error_of(b).find("100000 tokens"), std::string::npos);
  b = base;
  b["bukets"] = 4;
  EXPECT_NE(error_of(b).find("unknown field 'bukets'"), std::string::npos);
  // Two tokenizers: the model reads GPT-NeoX's, the base has Qwen2's.
  const auto fixtures = std::filesystem::path(LMSCOPE_SOURCE_DIR) / "tests/fixtures/tokenizers";
  const auto mine = load_tokenizer(fixtures / "gpt-neox");
  const auto other = tmp.path / "other";
  std::filesystem::create_directories(other);
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(fixtures / "qwen2" / f, other / f);
  eval::TaskEnv env;
  env.tokenizer = mine.get();
  env.max_length = 2048;
  json s = base;
  s["base"] = other.string();
  s["length"] = 8;
  try {
    eval::make_task(s, env, "");
    FAIL() << "no error";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(other.string()), std::string::npos) << e.what();
  }
  // The same tokenizer files in the base folder are accepted.
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(fixtures / "gpt-neox" / f, other / f, std::filesystem::copy_options::overwrite_existing);
  const auto task = eval::make_task(s, env, "");
  EXPECT_EQ(task->config()["tokenizer_check"], "same tokens on every document");
}

}  // namespace
}  // namespace lmscope
