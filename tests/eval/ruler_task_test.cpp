// The `ruler` task: settings errors naming the field, RULER's metric, and a run end to end through a small random
// Llama (byte tokenizer) with the results store: unit results, the aggregate's metrics, summary and heatmaps.
#include <gtest/gtest.h>

#include "eval/answer_metrics.h"
#include "lmscope/error.h"
#include "lmscope/eval/task.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "lmscope/run/run_spec.h"
#include "lmscope/run/runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;

const char* kText =
    "The harbour lies at the mouth of a small river. Boats come in with the tide and leave before dark. In winter "
    "the quay is quiet; in summer it is full of visitors, nets and gulls. An old mill stands beside the river. Its "
    "wheel turned for two hundred years, grinding wheat for the village. The mill was rebuilt after a flood. ";

TEST(RulerMetric, StringMatchAllIsTheFractionOfValuesFoundIgnoringCase) {
  const std::vector<std::string> one{"4619375"}, four{"1111111", "2222222", "3333333", "4444444"};
  EXPECT_EQ(eval::string_match_all("The special magic number is 4619375.", one), 1.0);
  EXPECT_EQ(eval::string_match_all("461937", one), 0.0);
  EXPECT_EQ(eval::string_match_all("", one), 0.0);
  EXPECT_EQ(eval::string_match_all("1111111, 3333333 and 9999999", four), 0.5);
  EXPECT_EQ(eval::string_match_all("2222222 4444444 3333333 1111111", four), 1.0);
  const std::vector<std::string> uuid{"5F0E7C1A-0B2D-4C3E-8F4A-1234567890AB"};
  EXPECT_EQ(eval::string_match_all("it is 5f0e7c1a-0b2d-4c3e-8f4a-1234567890ab", uuid), 1.0);
}

class RulerRun : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir = tmp.path / "tiny";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                                     {"max_position_embeddings", 1024}})
                                .dump(),
                            model_dir, {.seed = 11, .stddev = 0.5f});
    essay = tmp.path / "essay.txt";
    std::string t;
    for (int i = 0; i < 10; ++i) t += kText;
    test::write_text(essay, t);
  }
  json spec(const json& task) const {
    return {{"lmscope_run", 1},
            {"models", {{{"path", model_dir.string()}, {"name", "tiny"}, {"tokenizer", "bytes"}}}},
            {"tasks", json::array({task})}};
  }
  run::RunOutcome run(const json& s, const std::filesystem::path& store) const {
    run::RunOptions o;
    o.store_path = store.string();
    return run::execute_run(run::parse_run_spec(s, tmp.path.string(), "test spec"), o);
  }
  std::string error_of(const json& task) const {
    try {
      run(spec(task), tmp.path / "e.sqlite");
    } catch (const BadInput& e) {
      return e.what();
    }
    return "";
  }
  test::TempDir tmp;
  std::filesystem::path model_dir, essay;
};

TEST_F(RulerRun, SettingsErrorsNameTheField) {
  EXPECT_NE(error_of({{"task", "ruler"}, {"lenghts", {512}}}).find("lenghts"), std::string::npos);
  EXPECT_NE(error_of({{"task", "ruler"}, {"tasks", {"niah_single_9"}}}).find("'tasks'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "ruler"}, {"tasks", json::array()}}).find("'tasks'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "ruler"}, {"tasks", {"niah_single_2"}}, {"lengths", {600}}}).find("'haystack_file'"),
            std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_single_1"}, {"lengths", {200}}}).find("'lengths'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_single_1"}, {"lengths", {600}}, {"samples", 0}}).find("samples"), std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_single_1"}, {"lengths", {600}}, {"max_new_tokens", 0}}).find("max_new_tokens"),
            std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_multivalue"}, {"lengths", {900}}, {"haystack_file", essay.string()},
                      {"depths", {0.0, 0.5}}}).find("'depths'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_single_2"}, {"lengths", {900}}, {"haystack_file", essay.string()},
                      {"depths", {0.0, 1.5}}}).find("'depths'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "niah_single_1"}, {"tasks", {"niah_single_1"}}}).find("tasks"), std::string::npos);
}

TEST_F(RulerRun, RunsEndToEndWithUnitsPerBlockAndTheSummary) {
  const json task{{"task", "ruler"},
                  {"tasks", {"niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1"}},
                  {"lengths", {700, 900}},
                  {"samples", 3},
                  {"samples_per_unit", 2},
                  {"max_new_tokens", 8},
                  {"haystack_file", essay.string()}};
  const auto out = run(spec(task), tmp.path / "r.sqlite");
  ASSERT_TRUE(out.complete);
  EXPECT_EQ(out.units_total, 4 * 2 * 2);  // tasks × lengths × blocks of 2 of the 3 samples
  run::ResultsStore store(tmp.path / "r.sqlite");
  const auto units = store.units(out.task_runs.at(0).run_key);
  ASSERT_EQ(units.size(), 16u);
  for (const auto& [i, u] : units) {
    const auto& r = u.result;
    const auto L = r["length"].get<std::int64_t>();
    ASSERT_EQ(r["samples"].size(), i % 2 == 0 ? 2u : 1u);
    for (const auto& s : r["samples"]) {
      EXPECT_LE(s["prompt_tokens"].get<std::int64_t>(), L - 8);
      EXPECT_GT(s["prompt_tokens"].get<std::int64_t>(), L - 8 - 200);
      EXPECT_GE(s["score"].get<double>(), 0.0);
      EXPECT_LE(s["score"].get<double>(), 1.0);
      EXPECT_GE(s["depth"].get<double>(), 0.0);
      EXPECT_LE(s["depth"].get<double>(), 1.0);
      EXPECT_FALSE(s["answers"].empty());
    }
  }
  const auto& res = out.results["results"]["ruler"];
  for (const char* t : {"niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1"})
    for (const char* L : {"@700", "@900"}) EXPECT_TRUE(res.contains(std::string(t) + L + ",none")) << t << L << res.dump();
  EXPECT_TRUE(res.contains("ruler_card_avg@700,none")) << res.dump();
  EXPECT_TRUE(res.contains("ruler_niah_avg,none"));
  // A random model retrieves nothing.
  EXPECT_EQ(res["ruler_card_avg@900,none"].get<double>(), 0.0);

  // Same seed, same prompts: a second store gives identical units.
  const auto again = run(spec(task), tmp.path / "r2.sqlite");
  run::ResultsStore store2(tmp.path / "r2.sqlite");
  const auto units2 = store2.units(again.task_runs.at(0).run_key);
  for (const auto& [i, u] : units) EXPECT_EQ(u.result, units2.at(i).result);
}

TEST_F(RulerRun, AggregateHasTheSummaryTableAndHeatmaps) {
  const auto tok = make_byte_tokenizer();
  eval::TaskEnv env;
  env.tokenizer = tok.get();
  const json settings{{"task", "ruler"},
                      {"tasks", {"niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1"}},
                      {"lengths", {700, 900}},
                      {"samples", 2},
                      {"haystack_file", essay.string()},
                      {"max_new_tokens", 8}};
  const auto t = eval::make_task(settings, env, "");
  ASSERT_EQ(t->unit_count(), 8);
  // Hand-made unit results: S1 finds everything, S2 half, S3 nothing, MK1 everything, at both lengths.
  std::vector<std::pair<std::int64_t, json>> units;
  const double score[] = {1.0, 0.5, 0.0, 1.0};
  for (std::int64_t u = 0; u < 8; ++u) {
    const auto ti = u / 2;
    json samples = json::array();
    for (int k = 0; k < 2; ++k) samples.push_back({{"score", score[ti]}, {"depth", k == 0 ? 0.05 : 0.95}});
    units.emplace_back(u, json{{"samples", samples}});
  }
  const auto a = t->aggregate(units);
  EXPECT_EQ(a.samples, 16);
  EXPECT_DOUBLE_EQ(a.metrics["niah_single_1@700"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(a.metrics["niah_single_2@900"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a.metrics["niah_single_3"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(a.metrics["ruler_card_avg@700"].get<double>(), 0.625);
  EXPECT_DOUBLE_EQ(a.metrics["ruler_niah_avg"].get<double>(), 0.625);
  const auto& rows = a.details["summary"]["rows"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["length"], 700);
  EXPECT_DOUBLE_EQ(rows[0]["S2"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(rows[1]["avg"].get<double>(), 0.625);
  const auto& hm = a.details["heatmaps"]["niah_single_2"]["accuracy"];
  ASSERT_EQ(hm.size(), 10u);  // depth bins
  EXPECT_DOUBLE_EQ(hm[0][0].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(hm[9][1].get<double>(), 0.5);
  EXPECT_TRUE(hm[5][0].is_null());
  // Partial results: one unit only; the card average needs all four tasks.
  const auto p = t->aggregate({units[0]});
  EXPECT_TRUE(p.metrics.contains("niah_single_1@700"));
  EXPECT_FALSE(p.metrics.contains("ruler_card_avg@700"));
}

}  // namespace
}  // namespace lmscope
