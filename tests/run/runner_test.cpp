// Runs, the results store and the tasks end to end on a tiny random byte-level Llama written by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "eval/scoring.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/eval/rolling_windows.h"
#include "lmscope/eval/task.h"
#include "lmscope/eval/wikitext.h"
#include "lmscope/model.h"
#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "lmscope/run/run_spec.h"
#include "lmscope/run/runner.h"
#include "lmscope/tokenizer.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

using nlohmann::json;

// Our own little corpus in the WikiText raw layout: headings " = Title = " start documents.
const char* kCorpus =
    " = The Harbour = \n"
    " The harbour lies at the mouth of a small river . Boats come in with the tide @-@ and leave before dark . \n"
    " In winter the quay is quiet ; in summer it is full of visitors , nets and gulls . \n"
    " = The Mill = \n"
    " An old mill stands beside the river . Its wheel turned for 200 years , grinding wheat for the village . \n"
    " = = History = = \n"
    " The mill was rebuilt in 1820 after a flood . It closed in 1962 . \n"
    " = The Bakery = \n"
    " Bread is baked here every morning before sunrise ( except on Sundays ) . \n";

class RunFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir = tmp.path / "tiny";
    write_random_checkpoint(
        test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                 {"max_position_embeddings", 64}})
            .dump(),
        model_dir, {.seed = 7, .stddev = 0.5f});
    corpus = tmp.path / "corpus.raw";
    test::write_text(corpus, kCorpus);
  }

  json spec_json(const json& tasks) const {
    return {{"lmscope_run", 1},
            {"models", {{{"path", model_dir.string()}, {"name", "tiny"}, {"tokenizer", "bytes"}}}},
            {"tasks", tasks}};
  }

  run::RunOutcome run(const json& spec, const std::filesystem::path& store, int shard = 0, int shards = 1,
                      const std::atomic<bool>* cancel = nullptr,
                      std::function<void(const json&)> on_event = nullptr) const {
    run::RunOptions o;
    o.store_path = store.string();
    o.shard_index = shard;
    o.shard_count = shards;
    o.cancel = cancel;
    o.on_event = std::move(on_event);
    return run::execute_run(run::parse_run_spec(spec, tmp.path.string(), "test spec"), o);
  }

  test::TempDir tmp;
  std::filesystem::path model_dir, corpus;
};

TEST(RunSpec, ParsesModelsTasksDefaultsAndRopeGrids) {
  json j{{"lmscope_run", 1},
         {"models", {"m1", {{"path", "sub/m2"}, {"name", "second"}, {"tokenizer", "bytes"}}}},
         {"rope", {nullptr, "linear:factor=2", {{"type", "yarn"}, {"factor", {2, 4}}, {"original_max_position_embeddings", 32}}}},
         {"tasks", {"wikitext", {{"task", "passkey"}, {"limit", 3}}}},
         {"limit", 10},
         {"max_length", 128}};
  const auto s = run::parse_run_spec(j, "/base", "spec.json");
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.models[0].path, "/base/m1");
  EXPECT_EQ(s.models[0].name, "m1");
  EXPECT_EQ(s.models[1].path, "/base/sub/m2");
  EXPECT_EQ(s.models[1].name, "second");
  EXPECT_EQ(s.models[1].tokenizer, "bytes");
  ASSERT_EQ(s.rope.size(), 4u);
  EXPECT_EQ(s.rope[0], "");
  EXPECT_EQ(s.rope[1], "linear:factor=2");
  EXPECT_EQ(s.rope[2], "yarn:factor=2,original_max_position_embeddings=32");
  EXPECT_EQ(s.rope[3], "yarn:factor=4,original_max_position_embeddings=32");
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.tasks[0]["limit"], 10);  // top-level default
  EXPECT_EQ(s.tasks[1]["limit"], 3);   // the task's own wins
  EXPECT_EQ(s.tasks[0]["max_length"], 128);
  EXPECT_EQ(s.task_run_count(), 2 * 4 * 2);
  EXPECT_EQ(s.hash(), run::parse_run_spec(j, "/base", "x").hash());
  j["tasks"] = {"wikitext"};
  EXPECT_NE(s.hash(), run::parse_run_spec(j, "/base", "x").hash());
}

TEST(RunSpec, RejectsMalformedSpecsNamingTheField) {
  auto error_of = [](const json& j) {
    try {
      run::parse_run_spec(j, "", "spec.json");
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"tasks", {"wikitext"}}}).find("'models'"), std::string::npos);
  EXPECT_NE(error_of({{"models", {"m"}}}).find("'tasks'"), std::string::npos);
  EXPECT_NE(error_of({{"models", {"m"}}, {"tasks", {"wikitext"}}, {"dtpye", "bf16"}}).find("unknown field 'dtpye'"),
            std::string::npos);
  EXPECT_NE(error_of({{"models", {"m"}}, {"tasks", {"wikitext"}}, {"dtype", "int4"}}).find("'dtype'"), std::string::npos);
  EXPECT_NE(error_of({{"lmscope_run", 9}, {"models", {"m"}}, {"tasks", {"x"}}}).find("version"), std::string::npos);
  EXPECT_NE(error_of({{"models", {"m"}}, {"tasks", {"x"}}, {"rope", {{{"factor", 2}}}}}).find("'type'"), std::string::npos);
  EXPECT_THROW(run::parse_shard("2/2"), BadInput);
  EXPECT_THROW(run::parse_shard("a/b"), BadInput);
  EXPECT_EQ(run::parse_shard("1/3"), std::make_pair(1, 3));
}

TEST(ResultsStore, KeepsUnitsOnceAndMerges) {
  test::TempDir tmp;
  run::ResultsStore a(tmp.path / "a.sqlite");
  run::TaskRunRecord r;
  r.run_key = "k1";
  r.task = "wikitext";
  r.config = {{"x", 1}};
  r.provenance = {{"engine_version", "t"}};
  r.unit_count = 3;
  a.put_task_run(r);
  a.put_task_run(r);  // idempotent
  EXPECT_TRUE(a.put_unit("k1", 0, {{{"v", 1.5}}, 0.1, 10, "cpu"}));
  EXPECT_FALSE(a.put_unit("k1", 0, {{{"v", 9.0}}, 0.1, 10, "cpu"}));  // never overwritten
  EXPECT_EQ(a.units("k1").at(0).result["v"], 1.5);
  {
    run::ResultsStore b(tmp.path / "b.sqlite");
    b.put_task_run(r);
    b.put_unit("k1", 1, {{{"v", 2.5}}, 0.2, 20, "cpu"});
    b.put_unit("k1", 0, {{{"v", 1.5}}, 0.1, 10, "cpu"});
  }
  EXPECT_EQ(a.merge_from(tmp.path / "b.sqlite"), 1);
  const auto u = a.units("k1");
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(a.unit_count_stored("k1"), 2);
  EXPECT_EQ(a.unit_count_stored("nothing"), 0);
  EXPECT_EQ(u.at(1).result["v"], 2.5);
  ASSERT_EQ(a.task_runs().size(), 1u);
  EXPECT_EQ(a.task_runs()[0].config["x"], 1);
  test::write_text(tmp.path / "not.sqlite", "this is not a database, just some text that is long enough");
  EXPECT_THROW(run::ResultsStore(tmp.path / "not.sqlite"), BadInput);
  EXPECT_THROW(run::ResultsStore(tmp.path / "missing-folder" / "s.sqlite"), BadInput);
}

TEST(ResultsStore, SeveralWritersOpenOneNewStoreTogether) {
  // Workers (one per GPU) and shards open the same store at the same moment; none may fail on a lock.
  test::TempDir tmp;
  const auto path = tmp.path / "shared.sqlite";
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      try {
        run::ResultsStore s(path);
        run::TaskRunRecord r;
        r.run_key = "k" + std::to_string(w);
        r.config = json::object();
        r.provenance = json::object();
        s.put_task_run(r);
        for (int u = 0; u < 20; ++u) s.put_unit(r.run_key, u, {{{"u", u}}, 0.0, 1, "cpu"});
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures, 0);
  run::ResultsStore s(path);
  EXPECT_EQ(s.task_runs().size(), 4u);
  for (int w = 0; w < 4; ++w) EXPECT_EQ(s.units("k" + std::to_string(w)).size(), 20u);
}

TEST_F(RunFixture, WikitextMatchesADirectComputationAndIsServedFromTheStoreTheSecondTime) {
  const json spec = spec_json({{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}}});
  const auto first = run(spec, tmp.path / "s.sqlite");
  ASSERT_TRUE(first.complete);
  EXPECT_EQ(first.units_total, 3);  // three documents
  EXPECT_EQ(first.units_computed, 3);
  const auto& r = first.results["results"]["wikitext"];

  // Direct: the same windows scored through next_token_logprobs-free engine calls.
  const auto ck = Checkpoint::open(model_dir);
  const auto model = load_model(ck);
  const auto docs = eval::split_wikitext_documents(kCorpus);
  double loglik = 0;
  std::int64_t words = 0, bytes = 0;
  for (const auto& page : docs) {
    std::vector<std::int32_t> ids;
    for (unsigned char c : eval::wikitext_detokenize(page)) ids.push_back(c);
    for (const auto& w : eval::rolling_windows(ids, 16, 1)) {
      const auto logits = compute_logits(*model, w.input);
      const auto t = eval::position_targets(w);
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] < 0) continue;
        const float* row = logits.data() + i * 256;
        double m = row[0], s = 0;
        for (int v = 0; v < 256; ++v) m = std::max<double>(m, row[v]);
        for (int v = 0; v < 256; ++v) s += std::exp(row[v] - m);
        loglik += row[t[i]] - m - std::log(s);
      }
    }
    words += eval::count_words_like_lm_eval(page);
    bytes += static_cast<std::int64_t>(page.size());
  }
  EXPECT_NEAR(r["word_perplexity,none"].get<double>() / std::exp(-loglik / static_cast<double>(words)), 1.0, 1e-9);
  EXPECT_NEAR(r["bits_per_byte,none"].get<double>(), -loglik / (static_cast<double>(bytes) * std::log(2.0)), 1e-9);
  EXPECT_EQ(r["word_perplexity_stderr,none"], "N/A");
  EXPECT_EQ(first.results["configs"]["wikitext"]["max_length"], 16);
  EXPECT_EQ(first.results["versions"]["wikitext"], 2);

  const auto again = run(spec, tmp.path / "s.sqlite");
  EXPECT_EQ(again.units_computed, 0);
  EXPECT_EQ(again.units_reused, 3);
  EXPECT_EQ(again.results["results"], first.results["results"]);
}

// `--tokenizer FILE` naming a SentencePiece .model (binary) works: its bytes key the run, not a text read that
// refused it as "a data file holding a NUL byte".
TEST_F(RunFixture, ATokenizerGivenAsASentencePieceModelFileRuns) {
  const auto sp = test::shared_dir() / "data" / "tokenizers" / "llama2" / "tokenizer.model";
  LMSCOPE_REQUIRE_PATH(sp, "../shared/data/tokenizers/llama2");
  const auto big = tmp.path / "tiny-32k";
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 32000}, {"max_position_embeddings", 64}}).dump(), big,
                          {.seed = 7, .stddev = 0.5f});
  const json spec = {{"lmscope_run", 1},
                     {"models", {{{"path", big.string()}, {"name", "tiny"}, {"tokenizer", sp.string()}}}},
                     {"tasks", {{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}}}}};
  const auto out = run(spec, tmp.path / "sp.sqlite");
  ASSERT_TRUE(out.complete);
  EXPECT_EQ(out.units_computed, 3);
  EXPECT_GT(out.results["results"]["wikitext"]["word_perplexity,none"].get<double>(), 1.0);
}

// Live views draw `partial` events; they are throttled (the runner re-aggregates every finished unit for each one),
// but the first unit and the last one always send one, the last with every unit counted.
TEST_F(RunFixture, PartialEventsFollowTheFirstAndLastUnits) {
  const json spec = spec_json({{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}}});
  std::vector<std::string> kinds;
  json last_partial;
  run(spec, tmp.path / "p.sqlite", 0, 1, nullptr, [&](const json& e) {
    const std::string kind = e["event"];
    if (kind != "unit" && kind != "partial") return;
    kinds.push_back(kind);
    if (kind == "partial") last_partial = e;
  });
  ASSERT_GE(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], "unit");
  EXPECT_EQ(kinds[1], "partial");
  EXPECT_EQ(kinds.back(), "partial");
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "unit"), 3);
  EXPECT_LE(std::count(kinds.begin(), kinds.end(), "partial"), 3);
  EXPECT_EQ(last_partial["units_done"], 3);
  EXPECT_EQ(last_partial["unit_count"], 3);
}

TEST_F(RunFixture, BatchedWindowsGiveTheSameNumbers) {
  const json one{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}};
  json four = one;
  four["batch_size"] = 4;
  // Counts each run's unit events and the tokens they report.
  const auto units_seen = [](int& units, std::int64_t& tokens) {
    return [&units, &tokens](const json& e) {
      if (e["event"] != "unit") return;
      ++units;
      tokens += e["tokens"].get<std::int64_t>();
    };
  };
  int units_a = 0, units_b = 0;
  std::int64_t tokens_a = 0, tokens_b = 0;
  const auto a = run(spec_json(json::array({one})), tmp.path / "a.sqlite", 0, 1, nullptr, units_seen(units_a, tokens_a));
  // With a batch size the three documents are one group: their windows (of different lengths, padded) share passes.
  const auto b = run(spec_json(json::array({four})), tmp.path / "b.sqlite", 0, 1, nullptr, units_seen(units_b, tokens_b));
  // Same request key (batch size does not change what is computed), and the same numbers up to float32 rounding of
  // differently shaped products.
  EXPECT_EQ(a.task_runs[0].run_key, b.task_runs[0].run_key);
  const double x = a.results["results"]["wikitext"]["bits_per_byte,none"], y = b.results["results"]["wikitext"]["bits_per_byte,none"];
  EXPECT_NEAR(x, y, 1e-6 * x);
  // Each document still a unit of its own, stored with its share of the group's tokens.
  EXPECT_EQ(units_a, 3);
  EXPECT_EQ(units_b, 3);
  EXPECT_EQ(b.units_computed, 3);
  EXPECT_NEAR(static_cast<double>(tokens_b), static_cast<double>(tokens_a), 2.0);
  EXPECT_EQ(run::ResultsStore(tmp.path / "b.sqlite").units(b.task_runs[0].run_key).size(), 3u);
}

TEST_F(RunFixture, CancelledRunResumesWithoutLosingOrRepeatingUnits) {
  const json spec = spec_json({{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}},
                               {{"task", "passkey"}, {"lengths", {300, 360}}, {"depths", {0.0, 1.0}}, {"trials", 1}}});
  const auto whole = run(spec, tmp.path / "whole.sqlite");
  ASSERT_TRUE(whole.complete);
  const auto total = whole.units_total;
  EXPECT_EQ(total, 3 + 4);

  std::atomic<bool> cancel{false};
  int seen = 0;
  const auto part = run(spec, tmp.path / "resume.sqlite", 0, 1, &cancel, [&](const json& e) {
    if (e["event"] == "unit" && ++seen == 3) cancel = true;
  });
  EXPECT_TRUE(part.cancelled);
  EXPECT_FALSE(part.complete);
  EXPECT_EQ(part.units_computed, 3);
  const auto rest = run(spec, tmp.path / "resume.sqlite");
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(rest.units_reused, 3);
  EXPECT_EQ(rest.units_computed, total - 3);
  EXPECT_EQ(rest.results["results"], whole.results["results"]);
}

TEST_F(RunFixture, ShardsSplitTheUnitsAndMergeIntoTheWholeResult) {
  const json spec = spec_json({{{"task", "wikitext"}, {"data", corpus.string()}, {"max_length", 16}},
                               {{"task", "ppl_vs_length"}, {"data", corpus.string()}, {"lengths", {8, 16}}}});
  const auto whole = run(spec, tmp.path / "whole.sqlite");
  const auto s0 = run(spec, tmp.path / "s0.sqlite", 0, 2);
  const auto s1 = run(spec, tmp.path / "s1.sqlite", 1, 2);
  EXPECT_FALSE(s0.complete);
  EXPECT_EQ(s0.units_computed + s1.units_computed, whole.units_total);
  EXPECT_GT(s0.units_computed, 0);
  EXPECT_GT(s1.units_computed, 0);
  {
    run::ResultsStore merged(tmp.path / "s0.sqlite");
    merged.merge_from(tmp.path / "s1.sqlite");
  }
  const auto m = run(spec, tmp.path / "s0.sqlite");
  EXPECT_EQ(m.units_computed, 0);
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.results["results"], whole.results["results"]);
}

TEST_F(RunFixture, PasskeyGridReproducesWithTheSameSeedAndFitsTheLengths) {
  const json task{{"task", "passkey"}, {"lengths", {300, 400}}, {"depths", {0.0, 0.5, 1.0}}, {"trials", 2}, {"seed", 42}};
  const auto a = run(spec_json(json::array({task})), tmp.path / "a.sqlite");
  const auto b = run(spec_json(json::array({task})), tmp.path / "b.sqlite");
  run::ResultsStore sa(tmp.path / "a.sqlite"), sb(tmp.path / "b.sqlite");
  const auto key = a.task_runs.at(0).run_key;
  const auto ua = sa.units(key), ub = sb.units(key);
  ASSERT_EQ(ua.size(), 6u);
  std::set<std::string> keys;
  for (const auto& [i, u] : ua) {
    EXPECT_EQ(u.result, ub.at(i).result);  // identical prompts, keys and outputs
    for (const auto& t : u.result["trials"]) {
      EXPECT_LE(t["prompt_tokens"].get<int>(), u.result["length"].get<int>());
      EXPECT_GT(t["prompt_tokens"].get<int>(), u.result["length"].get<int>() - 80);  // filled, up to one sentence
      EXPECT_EQ(t["key"].get<std::string>().size(), 5u);
      keys.insert(t["key"].get<std::string>());
    }
  }
  EXPECT_GE(keys.size(), 10u);  // keys differ across cells and trials
  json other = task;
  other["seed"] = 43;
  const auto c = run(spec_json(json::array({other})), tmp.path / "c.sqlite");
  run::ResultsStore sc(tmp.path / "c.sqlite");
  EXPECT_NE(sc.units(c.task_runs.at(0).run_key).at(0).result["trials"][0]["key"],
            ua.at(0).result["trials"][0]["key"]);
  const auto& grid = a.results["lmscope"]["details"]["passkey"]["accuracy"];
  ASSERT_EQ(grid.size(), 3u);     // depths
  ASSERT_EQ(grid[0].size(), 2u);  // lengths
}

TEST_F(RunFixture, RecallTruncatesPromptsAsLmEvalAndScoresContainedAnswers) {
  const std::string doc = "The mill was rebuilt in 1820 after a flood. It closed in 1962. ";
  auto write_items = [&](const std::filesystem::path& p, const std::vector<std::string>& answers) {
    std::ofstream f(p);
    f << json{{"text", doc + "The mill closed in"}, {"value", answers[0]}}.dump() << "\n"
      << json{{"context", "Bread. "}, {"question", "Baked when?"}, {"answers", {answers[1], "\x01"}}}.dump() << "\n"
      << json{{"text", "Gulls"}, {"answer", answers[2]}, {"set", "fda"}}.dump() << "\n";
  };
  // max_length 40 − 8 new tokens: prompts keep their last 32 bytes (lm-eval's generate_until).
  auto task = [&](const std::filesystem::path& p) {
    return json{{"task", "recall"}, {"data", p.string()}, {"max_length", 40}, {"max_new_tokens", 8}};
  };
  write_items(tmp.path / "swde.jsonl", {"\x02never", "\x02never", "\x02never"});
  const auto first = run(spec_json(json::array({task(tmp.path / "swde.jsonl")})), tmp.path / "a.sqlite");
  ASSERT_TRUE(first.complete);
  run::ResultsStore sa(tmp.path / "a.sqlite");
  const auto items = sa.units(first.task_runs.at(0).run_key).at(0).result;
  ASSERT_EQ(items.size(), 3u);
  const std::size_t lengths[] = {doc.size() + 18, 18, 5};
  std::vector<std::string> outputs;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& r = items[i];
    EXPECT_EQ(r["prompt_tokens"].get<std::size_t>(), std::min<std::size_t>(lengths[i], 32)) << i;
    EXPECT_EQ(r["truncated_tokens"].get<std::size_t>(), lengths[i] > 32 ? lengths[i] - 32 : 0) << i;
    EXPECT_EQ(r["set"], i == 2 ? "fda" : "swde");
    EXPECT_EQ(r["contains"], 0);
    const auto out = r["output"].get<std::string>();
    EXPECT_EQ(out.find('\n'), std::string::npos);  // "until": ["\n"] by default
    EXPECT_TRUE(r["stopped_by"] == "stop_string" || r["stopped_by"] == "eos" || r["stopped_by"] == "max_new_tokens");
    outputs.push_back(out);
  }
  ASSERT_FALSE(outputs[0].empty()) << "this seed's model must write something for item 1";
  // The same prompts decode the same way: answers taken from the outputs are found, upper-cased ASCII included.
  std::string upper = outputs[0].substr(0, complete_utf8_prefix(outputs[0].substr(0, 4)));
  ASSERT_FALSE(upper.empty());
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_items(tmp.path / "swde.jsonl", {upper, "\x02never", outputs[2].empty() ? "\x02never" : outputs[2]});
  const auto second = run(spec_json(json::array({task(tmp.path / "swde.jsonl")})), tmp.path / "b.sqlite");
  const auto& m = second.results["results"]["recall"];
  const double fda = outputs[2].empty() ? 0.0 : 1.0;
  EXPECT_DOUBLE_EQ(m["contains,none"].get<double>(), (1.0 + fda) / 3.0) << m.dump();
  EXPECT_DOUBLE_EQ(m["contains@swde,none"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["contains@fda,none"].get<double>(), fda);

  // Bad settings name the field.
  json bad = task(tmp.path / "swde.jsonl");
  bad["until"] = "\n";
  EXPECT_THROW(run(spec_json(json::array({bad})), tmp.path / "c.sqlite"), BadInput);
  std::ofstream(tmp.path / "empty_answer.jsonl") << R"({"text": "x", "value": ""})" "\n";
  try {
    run(spec_json(json::array({task(tmp.path / "empty_answer.jsonl")})), tmp.path / "d.sqlite");
    ADD_FAILURE() << "an item without an answer was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("empty_answer.jsonl:1"), std::string::npos) << e.what();
  }
}

TEST_F(RunFixture, PplVsLengthChunksAreScoredFromAnEmptyState) {
  const auto out = run(spec_json({{{"task", "ppl_vs_length"}, {"data", corpus.string()}, {"lengths", {16, 32}}}}),
                       tmp.path / "s.sqlite");
  const auto& series = out.results["lmscope"]["details"]["ppl_vs_length"]["series"];
  ASSERT_EQ(series.size(), 2u);
  const auto ck = Checkpoint::open(model_dir);
  const auto model = load_model(ck);
  std::vector<std::int32_t> ids;
  for (unsigned char c : std::string(kCorpus)) ids.push_back(c);
  for (const auto& p : series) {
    const auto L = p["length"].get<std::size_t>();
    double nll = 0;
    std::int64_t n = 0;
    for (std::size_t st = 0; st + L <= ids.size(); st += L) {
      const std::vector<std::int32_t> chunk(ids.begin() + static_cast<std::ptrdiff_t>(st),
                                            ids.begin() + static_cast<std::ptrdiff_t>(st + L));
      for (double lp : next_token_logprobs(*model, chunk)) {
        nll -= lp;
        ++n;
      }
    }
    EXPECT_EQ(p["windows"].get<std::size_t>(), ids.size() / L);
    EXPECT_EQ(p["tokens"].get<std::int64_t>(), n);
    // The direct pass reads L tokens, the task L − 1 (the last token predicts nothing): float32 GEMMs of other
    // shapes round differently, hence 1e-6 on the mean NLL rather than equality.
    EXPECT_NEAR(std::log(p["ppl"].get<double>()), nll / static_cast<double>(n), 1e-6);
  }
}

TEST_F(RunFixture, MultipleChoiceAndLambadaScoreLikeTheirDefinitions) {
  std::ofstream(tmp.path / "piqa.jsonl") << R"({"goal": "Keep bread fresh", "sol1": "Wrap it in a cloth.", "sol2": "Leave it in the rain.", "label": 0})" "\n"
                                         << R"({"goal": "Cross a river", "sol1": "Use the bridge.", "sol2": "Use a ladder of fish.", "label": 1})" "\n"
                                         << R"({"goal": "Light a room", "sol1": "Open the curtains.", "sol2": "Close the eyes.", "label": 0})" "\n";
  std::ofstream(tmp.path / "lambada.jsonl") << R"({"text": "The boats came in with the evening tide"})" "\n"
                                            << R"({"text": "She baked bread every single morning"})" "\n";
  const auto out = run(spec_json({{{"task", "piqa"}, {"data", (tmp.path / "piqa.jsonl").string()}},
                                  {{"task", "lambada_openai"}, {"data", (tmp.path / "lambada.jsonl").string()}}}),
                       tmp.path / "s.sqlite");
  ASSERT_TRUE(out.complete);
  const auto ck = Checkpoint::open(model_dir);
  const auto model = load_model(ck);
  auto loglik = [&](const std::string& ctx, const std::string& cont) {
    std::vector<std::int32_t> ids;
    for (unsigned char c : ctx + cont) ids.push_back(c);
    const auto lp = next_token_logprobs(*model, ids);
    double s = 0;
    for (std::size_t i = ctx.size() - 1; i < lp.size(); ++i) s += lp[i];
    return s;
  };
  const std::vector<std::array<std::string, 3>> items{{"Keep bread fresh", "Wrap it in a cloth.", "Leave it in the rain."},
                                                      {"Cross a river", "Use the bridge.", "Use a ladder of fish."},
                                                      {"Light a room", "Open the curtains.", "Close the eyes."}};
  const int gold[] = {0, 1, 0};
  double acc = 0, acc_norm = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string ctx = "Question: " + items[i][0] + "\nAnswer:";
    const double l1 = loglik(ctx, " " + items[i][1]), l2 = loglik(ctx, " " + items[i][2]);
    acc += ((l1 >= l2 ? 0 : 1) == gold[i]);
    acc_norm += ((l1 / items[i][1].size() >= l2 / items[i][2].size() ? 0 : 1) == gold[i]);
  }
  const auto& p = out.results["results"]["piqa"];
  EXPECT_DOUBLE_EQ(p["acc,none"].get<double>(), acc / 3);
  EXPECT_DOUBLE_EQ(p["acc_norm,none"].get<double>(), acc_norm / 3);
  const double m = acc / 3;
  EXPECT_NEAR(p["acc_stderr,none"].get<double>(), std::sqrt(m * (1 - m) * 3 / 2) / std::sqrt(3.0), 1e-12);
  EXPECT_EQ(out.results["n-samples"]["piqa"]["effective"], 3);
  const double l1 = loglik("The boats came in with the evening", " tide"), l2 = loglik("She baked bread every single", " morning");
  const auto& lam = out.results["results"]["lambada_openai"];
  EXPECT_NEAR(std::log(lam["perplexity,none"].get<double>()), -(l1 + l2) / 2, 1e-5);
  // delta method: ppl × sample std / sqrt(n); with two items the std is |l1 − l2| / sqrt(2)
  EXPECT_NEAR(lam["perplexity_stderr,none"].get<double>() / lam["perplexity,none"].get<double>(),
              std::abs(l1 - l2) / std::sqrt(2.0) / std::sqrt(2.0), 1e-4);
}

TEST_F(RunFixture, CharlevelAndLongPplAndThroughputRun) {
  const auto out = run(spec_json({{{"task", "charlevel"}, {"data", corpus.string()}, {"max_length", 32}},
                                  {{"task", "longppl"}, {"data", corpus.string()}, {"trunc_len", 16}, {"sliding_window", 8},
                                   {"length", 60}, {"alpha", 0.0}, {"beta", -100.0}},
                                  {{"task", "throughput"}, {"seq", {16}}, {"repeats", 1}}}),
                       tmp.path / "s.sqlite");
  ASSERT_TRUE(out.complete);
  const auto& c = out.results["results"]["charlevel"];
  const double bpb = c["bits_per_byte,none"].get<double>();
  EXPECT_NEAR(c["compression_ratio,none"].get<double>(), 8.0 / bpb, 1e-9);
  EXPECT_GE(c["bits_per_char,none"].get<double>(), bpb);  // at least one byte per character
  EXPECT_GE(c["next_char_accuracy,none"].get<double>(), 0.0);
  // With alpha 0 and beta -100 a key token is one whose short-context log-probability is below the long one.
  const auto& l = out.results["results"]["longppl"];
  EXPECT_GT(l["ppl@60,none"].get<double>(), 1.0);
  EXPECT_GT(l["longppl@60,none"].get<double>(), 1.0);
  EXPECT_GT(out.results["lmscope"]["details"]["longppl"]["series"][0]["key_tokens"].get<int>(), 0);
  EXPECT_GT(out.results["results"]["throughput"]["tokens_per_s@1x16,none"].get<double>(), 0.0);
}

TEST_F(RunFixture, LongPplTakesAListOfLengthsWithAShortContextBelowEach) {
  // No trunc_len: K = L/8 (at most 4096) and W = K/4 at each length, so lengths far below 4096 give a value.
  const json task{{"task", "longppl"}, {"data", corpus.string()}, {"lengths", {32, 64}}, {"alpha", 0.0}, {"beta", -100.0}};
  std::vector<json> events;
  const auto out = run(spec_json(json::array({task})), tmp.path / "l.sqlite", 0, 1, nullptr, [&](const json& e) { events.push_back(e); });
  ASSERT_TRUE(out.complete);
  const auto& m = out.results["results"]["longppl"];
  for (const char* k : {"longppl@32,none", "longppl@64,none", "ppl@32,none", "ppl@64,none"})
    EXPECT_TRUE(m[k].is_number()) << k << " in " << m;
  const auto& series = out.results["lmscope"]["details"]["longppl"]["series"];
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0]["length"], 32);
  EXPECT_EQ(series[0]["trunc_len"], 4);
  EXPECT_EQ(series[0]["sliding_window"], 1);
  EXPECT_EQ(series[1]["trunc_len"], 8);
  EXPECT_EQ(series[1]["sliding_window"], 2);
  for (const auto& p : series) {
    EXPECT_GT(p["key_tokens"].get<int>(), 0) << p;
    EXPECT_EQ(p["tokens"], p["length"].get<int>() - 1) << p;  // one document, cut to L tokens
    EXPECT_TRUE(p["longppl"].is_number()) << p;
  }
  EXPECT_EQ(out.results["configs"]["longppl"]["lengths"], json::array({32, 64}));
  // `length` is one length, the same task as `lengths` [length]; an absent one is the max length (64 here)
  auto one = task;
  one.erase("lengths");
  one["length"] = 64;
  auto listed = task;
  listed["lengths"] = {64};
  auto absent = task;
  absent.erase("lengths");
  const auto a = run(spec_json(json::array({one})), tmp.path / "a.sqlite");
  EXPECT_EQ(a.results["configs"]["longppl"], run(spec_json(json::array({listed})), tmp.path / "b.sqlite").results["configs"]["longppl"]);
  EXPECT_EQ(a.results["configs"]["longppl"], run(spec_json(json::array({absent})), tmp.path / "c.sqlite").results["configs"]["longppl"]);
  auto error_of = [&](json t) {
    try {
      run(spec_json(json::array({t})), tmp.path / "e.sqlite");
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto both = task;
  both["length"] = 32;
  EXPECT_NE(error_of(both).find("not both"), std::string::npos);
  auto too_long_k = task;
  too_long_k["trunc_len"] = 32;
  EXPECT_NE(error_of(too_long_k).find("trunc_len 32 is not below the length 32"), std::string::npos) << error_of(too_long_k);
  auto too_long_doc = task;
  too_long_doc["lengths"] = {64, 100000};
  EXPECT_NE(error_of(too_long_doc).find("100000 tokens"), std::string::npos);
}

TEST_F(RunFixture, TwoInstancesOfATaskRunSideBySideUnderTheirAliases) {
  const auto other = tmp.path / "other.txt";
  test::write_text(other, "Gulls argued over a fish on the harbour wall, then flew off over the grey water. The "
                          "ferry sounded its horn twice and turned towards the island, where lamps were being lit.");
  const json harbour{{"task", "ppl_vs_length"}, {"alias", "ppl_vs_length:corpus"}, {"data", corpus.string()},
                     {"lengths", {16, 32}}};
  const json gulls{{"task", "ppl_vs_length"}, {"alias", "ppl_vs_length:gulls"}, {"data", other.string()},
                   {"lengths", {16, 32}}};
  std::vector<json> events;
  const auto out = run(spec_json(json::array({harbour, gulls})), tmp.path / "s.sqlite", 0, 1, nullptr,
                       [&](const json& e) { events.push_back(e); });
  ASSERT_TRUE(out.complete);
  const auto& r = out.results["results"];
  ASSERT_TRUE(r.contains("ppl_vs_length:corpus") && r.contains("ppl_vs_length:gulls")) << r;
  EXPECT_EQ(r["ppl_vs_length:gulls"]["alias"], "ppl_vs_length:gulls");
  EXPECT_NE(r["ppl_vs_length:corpus"]["ppl@16,none"], r["ppl_vs_length:gulls"]["ppl@16,none"]);
  const auto& keys = out.results["lmscope"]["run_keys"];
  EXPECT_NE(keys["ppl_vs_length:corpus"], keys["ppl_vs_length:gulls"]);
  EXPECT_NE(out.results["configs"]["ppl_vs_length:corpus"]["data_hash"],
            out.results["configs"]["ppl_vs_length:gulls"]["data_hash"]);
  // every event that names a task run names its instance
  std::map<std::string, std::set<std::string>> aliases_by_event;
  for (const auto& e : events) {
    const auto kind = e["event"].get<std::string>();
    if (kind == "start")
      for (const auto& t : e["task_runs"]) aliases_by_event["start"].insert(t["alias"].get<std::string>());
    if (kind == "partial" || kind == "result" || kind == "progress" || kind == "unit") {
      ASSERT_TRUE(e.contains("alias")) << e;
      aliases_by_event[kind].insert(e["alias"].get<std::string>());
    }
  }
  const std::set<std::string> both{"ppl_vs_length:corpus", "ppl_vs_length:gulls"};
  for (const char* kind : {"start", "unit", "partial", "result", "progress"})
    EXPECT_EQ(aliases_by_event[kind], both) << kind;
  std::set<std::string> stored;
  for (const auto& t : run::ResultsStore(tmp.path / "s.sqlite").task_runs()) stored.insert(t.alias);
  EXPECT_EQ(stored, both);
  std::set<std::string> infos;
  for (const auto& t : out.task_runs) infos.insert(t.alias);
  EXPECT_EQ(infos, both);
  // The same configuration under a new alias reuses the stored units, and the store names it as last asked.
  auto renamed = gulls;
  renamed["alias"] = "gulls";
  const auto again = run(spec_json(json::array({renamed})), tmp.path / "s.sqlite");
  EXPECT_EQ(again.units_computed, 0);
  EXPECT_EQ(again.results["results"]["gulls"]["ppl@16,none"], r["ppl_vs_length:gulls"]["ppl@16,none"]);
  for (const auto& t : run::ResultsStore(tmp.path / "s.sqlite").task_runs())
    if (t.run_key == keys["ppl_vs_length:gulls"].get<std::string>()) {
      EXPECT_EQ(t.alias, "gulls");
    }
  // Two entries of one name would overwrite each other in the results: refused, naming the alias.
  auto unnamed = harbour;
  unnamed.erase("alias");
  auto unnamed2 = gulls;
  unnamed2.erase("alias");
  try {
    run(spec_json(json::array({unnamed, unnamed2})), tmp.path / "d.sqlite");
    FAIL() << "two entries named ppl_vs_length were accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("\"alias\""), std::string::npos) << e.what();
  }
}

TEST_F(RunFixture, BadTaskSettingsAreRefusedBeforeAnyWork) {
  auto error_of = [&](const json& task) {
    try {
      run(spec_json(json::array({task})), tmp.path / "e.sqlite");
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"task", "wikitext"}}).find("'data'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "wikitext"}, {"data", "/no/such/file"}}).find("/no/such/file"), std::string::npos);
  EXPECT_NE(error_of({{"task", "passkey"}, {"lenghts", {100}}}).find("unknown field 'lenghts'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "passkey"}, {"depths", {1.5}}}).find("depth"), std::string::npos);
  EXPECT_NE(error_of({{"task", "nosuchtask"}}).find("unknown task"), std::string::npos);
  EXPECT_NE(error_of({{"task", "ppl_vs_length"}, {"data", corpus.string()}, {"lengths", "long"}}).find("'lengths'"),
            std::string::npos);
  EXPECT_NE(error_of({{"task", "ppl_vs_length"}, {"data", corpus.string()}, {"lengths", {64, 100000}}}).find("100000 tokens"),
            std::string::npos);
}

}  // namespace
}  // namespace lmscope
