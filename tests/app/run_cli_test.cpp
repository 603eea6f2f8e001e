// `lmscope-cli run`, `merge` and `worker` as scripts and the GUI use them: every task end to end on a tiny model,
// lm-eval shaped output, kill -9 and resume, and the worker's JSON-lines protocol.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "support/worker_process.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Result = test::CliResult;
inline Result cli(const std::string& args) { return test::run_cli(args); }

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// Our own short documents in the WikiText layout.
std::string corpus(int documents) {
  const char* lines[] = {" The tide came in over the sand and the boats lifted at their moorings . \n",
                         " A baker opened the shutters ; the street smelled of bread . \n",
                         " Two gulls argued over a fish on the harbour wall , then flew off . \n"};
  std::string s;
  for (int d = 0; d < documents; ++d) {
    s += " = Note " + std::to_string(d) + " = \n";
    for (int l = 0; l <= d % 3; ++l) s += lines[(d + l) % 3];
  }
  return s;
}

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    model = tmp.path / "tiny";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"bos_token_id", 1}, {"eos_token_id", 2},
                                                     {"max_position_embeddings", 64}})
                                .dump(),
                            model, {.seed = 3, .stddev = 0.3f});
    data = tmp.path / "wiki.raw";
    test::write_text(data, corpus(6));
  }
  test::TempDir tmp;
  fs::path model, data;
};

TEST_F(RunCli, SingleTaskRunWritesLmEvalShapedResults) {
  const auto r = cli("run --model " + q(model) + " --tokenizer bytes --task wikitext --data " + q(data) +
                     " --max-length 16 --store " + q(tmp.path / "s.sqlite") + " --out " + q(tmp.path / "r.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("word_perplexity"), std::string::npos) << r.out;
  // the done line says where the time went
  EXPECT_NE(r.out.find("done: 6 units computed, 0 from the store ("), std::string::npos) << r.out;
  for (const char* part : {" s reading and tokenising, ", " s loading weights, ", " s computing)"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  const auto j = json::parse(test::read_text(tmp.path / "r.json"));
  for (const char* k : {"results", "configs", "versions", "n-samples", "config", "lmscope"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["results"]["wikitext"]["bits_per_byte,none"].is_number());
  EXPECT_EQ(j["configs"]["wikitext"]["max_length"], 16);
  EXPECT_EQ(j["n-samples"]["wikitext"]["effective"], 6);
  const auto again = cli("run --model " + q(model) + " --tokenizer bytes --task wikitext --data " + q(data) +
                         " --max-length 16 --store " + q(tmp.path / "s.sqlite"));
  EXPECT_NE(again.out.find("0 units computed, 6 from the store"), std::string::npos) << again.out;
  const auto listed = cli("results --store " + q(tmp.path / "s.sqlite"));
  EXPECT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find("6/6 units"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("word_perplexity"), std::string::npos) << listed.out;
  const auto listed_json = json::parse(cli("results --json --task wikitext --store " + q(tmp.path / "s.sqlite")).out);
  ASSERT_EQ(listed_json.size(), 1u);
  EXPECT_TRUE(listed_json[0]["metrics"]["bits_per_byte"].is_number());
  const auto bad = cli("run --model " + q(model) + " --tokenizer bytes --task wikitext --store " + q(tmp.path / "s.sqlite"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("'data' is required"), std::string::npos) << bad.out;
}

TEST_F(RunCli, EveryTaskRunsEndToEndFromOneSpec) {
  const std::map<std::string, std::string> mc{
      {"hellaswag", R"({"activity_label": "Baking", "ctx_a": "A man kneads dough.", "ctx_b": "he", "endings": ["puts it in the oven.", "eats the table.", "flies away.", "sings loudly."], "label": "0"})"},
      {"piqa", R"({"goal": "Keep bread fresh", "sol1": "Wrap it in a cloth.", "sol2": "Leave it in the rain.", "label": 0})"},
      {"arc_easy", R"({"question": "Which is a liquid?", "choices": {"text": ["water", "stone", "wood", "iron"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"})"},
      {"arc_challenge", R"({"question": "Which is a gas?", "choices": {"text": ["steam", "ice"], "label": ["1", "2"]}, "answerKey": "1"})"},
      {"winogrande", R"({"sentence": "The cup fell off the table because _ was slippery.", "option1": "the cup", "option2": "the table", "answer": "1"})"},
      {"boolq", R"({"passage": "The sea is salty.", "question": "is the sea salty", "label": 1})"},
      {"copa", R"({"premise": "The glass broke.", "choice1": "It fell on the floor.", "choice2": "It was full of water.", "question": "cause", "label": 0})"},
      {"sciq", R"({"question": "What do plants need?", "distractor1": "salt", "distractor2": "sand", "distractor3": "oil", "correct_answer": "light", "support": "Plants need light."})"},
      {"social_iqa", R"({"context": "Ann gave Bob a gift.", "question": "How would Bob feel?", "answerA": "happy", "answerB": "angry", "answerC": "bored", "label": "1"})"}};
  json tasks = json::array();
  for (const auto& [name, record] : mc) {
    std::ofstream(tmp.path / (name + ".jsonl")) << record << "\n" << record << "\n";
    tasks.push_back({{"task", name}, {"data", name + ".jsonl"}});
  }
  std::ofstream(tmp.path / "lambada.jsonl") << R"({"text": "The boats came in with the evening tide"})" "\n";
  tasks.push_back({{"task", "lambada_openai"}, {"data", "lambada.jsonl"}});
  tasks.push_back({{"task", "wikitext"}, {"data", "wiki.raw"}, {"max_length", 16}});
  tasks.push_back({{"task", "ppl_vs_length"}, {"data", "wiki.raw"}, {"lengths", {16, 32}}});
  tasks.push_back({{"task", "passkey"}, {"lengths", {300}}, {"depths", {0.0, 1.0}}, {"trials", 1}});
  tasks.push_back({{"task", "longppl"}, {"data", "wiki.raw"}, {"trunc_len", 16}, {"sliding_window", 8}, {"lengths", {40, 60}}});
  tasks.push_back({{"task", "charlevel"}, {"data", "wiki.raw"}, {"max_length", 32}});
  tasks.push_back({{"task", "throughput"}, {"seq", 16}, {"repeats", 1}});
  const json spec{{"lmscope_run", 1}, {"name", "all tasks"},
                  {"models", {{{"path", "tiny"}, {"tokenizer", "bytes"}}}}, {"tasks", tasks}};
  test::write_text(tmp.path / "spec.json", spec.dump(2));
  const auto r = cli("run " + q(tmp.path / "spec.json") + " --store " + q(tmp.path / "s.sqlite") + " --out " +
                     q(tmp.path / "r.json") + " --log-samples " + q(tmp.path / "samples.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = json::parse(test::read_text(tmp.path / "r.json"));
  EXPECT_EQ(j["results"].size(), tasks.size());
  for (const auto& [name, record] : mc) {
    EXPECT_TRUE(j["results"][name]["acc,none"].is_number()) << name;
    EXPECT_TRUE(j["results"][name]["acc_stderr,none"].is_number()) << name;
    EXPECT_EQ(j["n-samples"][name]["effective"], 2) << name;
  }
  EXPECT_TRUE(j["results"]["hellaswag"].contains("acc_norm,none"));
  EXPECT_FALSE(j["results"]["winogrande"].contains("acc_norm,none"));
  EXPECT_TRUE(j["results"]["lambada_openai"]["perplexity,none"].is_number());
  EXPECT_TRUE(j["results"]["ppl_vs_length"]["ppl@32,none"].is_number());
  EXPECT_TRUE(j["results"]["passkey"]["accuracy,none"].is_number());
  EXPECT_TRUE(j["results"]["longppl"]["ppl@40,none"].is_number());
  EXPECT_TRUE(j["results"]["longppl"]["ppl@60,none"].is_number());
  EXPECT_TRUE(j["results"]["charlevel"]["bits_per_char,none"].is_number());
  EXPECT_TRUE(j["results"]["throughput"]["tokens_per_s@1x16,none"].is_number());
  EXPECT_GT(test::read_text(tmp.path / "samples.jsonl").size(), 100u);
}

TEST_F(RunCli, TwoInstancesOfATaskRunEndToEndUnderTheirAliases) {
  // Perplexity vs length on two corpora in one spec (a figure's several lines), each entry named by its alias.
  const auto other = tmp.path / "other.txt";
  test::write_text(other, "The ferry sounded its horn twice and turned towards the island, where lamps were lit one "
                          "by one along the quay while the last light went out of the sky over the hills.");
  json tasks = json::array();
  tasks.push_back({{"task", "ppl_vs_length"}, {"alias", "ppl:wiki"}, {"data", data.string()}, {"lengths", {8, 16}}});
  tasks.push_back({{"task", "ppl_vs_length"}, {"alias", "ppl:ferry"}, {"data", other.string()}, {"lengths", {8, 16}}});
  const json spec{{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}}, {"tasks", tasks}};
  test::write_text(tmp.path / "two.json", spec.dump());
  const auto store = tmp.path / "two.sqlite";
  const auto r = cli("run " + q(tmp.path / "two.json") + " --store " + q(store) + " --out " + q(tmp.path / "two-out.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("ppl:ferry"), std::string::npos) << r.out;  // the summary names the instances
  const auto j = json::parse(test::read_text(tmp.path / "two-out.json"));
  ASSERT_TRUE(j["results"].contains("ppl:wiki") && j["results"].contains("ppl:ferry")) << j["results"];
  EXPECT_TRUE(j["results"]["ppl:ferry"]["ppl@16,none"].is_number());
  EXPECT_NE(j["lmscope"]["run_keys"]["ppl:wiki"], j["lmscope"]["run_keys"]["ppl:ferry"]);
  EXPECT_EQ(j["lmscope"]["details"]["ppl:ferry"]["series"].size(), 2u);
  // the worker's history keeps each task run's alias
  test::WorkerProcess w;
  EXPECT_EQ(w.next()["event"], "ready");
  w.send({{"id", 1}, {"cmd", "history"}, {"store", store.string()}});
  const auto h = w.until("history");
  std::set<std::string> aliases;
  for (const auto& t : h["task_runs"]) aliases.insert(t["alias"].get<std::string>());
  EXPECT_EQ(aliases, (std::set<std::string>{"ppl:wiki", "ppl:ferry"}));
  w.send({{"cmd", "quit"}});
  EXPECT_EQ(w.close_and_wait(), 0);
}

TEST(RunCliShared, PiqaAndLambadaRunOnTheSharedFilesWithTheirItemCounts) {
  const auto model = test::refpack_case("llama-default");
  const auto data = test::shared_dir() / "data";
  LMSCOPE_REQUIRE_PATH(model, "refpack llama-default");
  LMSCOPE_REQUIRE_PATH(data / "piqa" / "validation.jsonl", "../shared/data/piqa");
  LMSCOPE_REQUIRE_PATH(data / "lambada_openai" / "test.jsonl", "../shared/data/lambada_openai");
  test::TempDir tmp;
  const json spec{{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
                  {"tasks", {{{"task", "piqa"}, {"data", (data / "piqa" / "validation.jsonl").string()}},
                             {{"task", "lambada_openai"}, {"data", (data / "lambada_openai" / "test.jsonl").string()}}}}};
  test::write_text(tmp.path / "spec.json", spec.dump());
  const auto r = cli("run " + q(tmp.path / "spec.json") + " --quiet --store " + q(tmp.path / "s.sqlite") + " --out " +
                     q(tmp.path / "r.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = json::parse(test::read_text(tmp.path / "r.json"));
  EXPECT_EQ(j["n-samples"]["piqa"]["effective"], 1838);
  EXPECT_EQ(j["n-samples"]["lambada_openai"]["effective"], 5153);
  // A random-weight model is at chance on PIQA's two choices.
  EXPECT_NEAR(j["results"]["piqa"]["acc,none"].get<double>(), 0.5, 0.05);
}

TEST(RunCliDemo, ReportComparesTheDemoModels) {
  test::TempDir tmp;
  const auto out = tmp.path / "report";
  const auto r = cli("demo --report " + q(out));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = json::parse(test::read_text(out / "results.json"));
  ASSERT_EQ(j["runs"].size(), 3u);  // the three demo models
  for (const auto& g : j["runs"]) {
    EXPECT_TRUE(g["results"]["ppl_vs_length"]["ppl@512,none"].is_number());
    // trained models: far below a uniform guess over their vocabularies (2048 BPE tokens, 256 bytes) at the
    // length they were trained for
    EXPECT_LT(g["results"]["ppl_vs_length"]["ppl@512,none"].get<double>(), 500.0) << g["lmscope"]["model"];
    EXPECT_TRUE(g["results"]["passkey"]["accuracy,none"].is_number());
    EXPECT_TRUE(g["results"]["throughput"]["tokens_per_s@1x256,none"].is_number());
  }
  EXPECT_TRUE(fs::exists(out / "comparison.md"));
  EXPECT_TRUE(fs::exists(out / "comparison.csv"));
  if (fs::exists(fs::path(LMSCOPE_CLI).parent_path() / "lmscope")) {  // the GUI build draws the figures
    for (const char* f : {"perplexity_vs_length.png", "perplexity_vs_length.pdf", "perplexity_vs_length.svg",
                          "passkey_heatmaps.png", "comparison.tex", "index.md"})
      EXPECT_TRUE(fs::exists(out / f)) << f;
    const auto png = test::read_text(out / "perplexity_vs_length.png");
    EXPECT_EQ(png.substr(1, 3), "PNG");
  }
}

TEST_F(RunCli, KillNineThenResumeLosesNothingAndRepeatsNothing) {
  // A model big enough that the run takes a few seconds on the CPU.
  const auto big = tmp.path / "big";
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"hidden_size", 256}, {"intermediate_size", 768},
                                                   {"num_hidden_layers", 4}, {"num_attention_heads", 8},
                                                   {"num_key_value_heads", 4}, {"head_dim", 32}, {"bos_token_id", 1},
                                                   {"max_position_embeddings", 256}})
                              .dump(),
                          big, {.seed = 5});
  test::write_text(data, corpus(300));
  const std::vector<std::string> args{"run", "--model", big.string(), "--tokenizer", "bytes", "--task", "wikitext",
                                      "--data", data.string(), "--max-length", "32", "--store",
                                      (tmp.path / "k.sqlite").string(), "--out", (tmp.path / "k.json").string()};
  const pid_t pid = test::spawn_cli(args, tmp.path / "k.log");
  ASSERT_GT(pid, 0);
  // Wait until a few units are committed, then kill without warning.
  std::size_t stored = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!fs::exists(tmp.path / "k.sqlite")) continue;
    try {
      run::ResultsStore s(tmp.path / "k.sqlite");
      const auto runs = s.task_runs();
      if (!runs.empty()) stored = s.units(runs[0].run_key).size();
    } catch (const std::exception&) {
    }
    if (stored >= 3) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed; make it longer\n"
                                   << test::read_text(tmp.path / "k.log");
  std::size_t after_kill;
  {
    run::ResultsStore s(tmp.path / "k.sqlite");
    after_kill = s.units(s.task_runs().at(0).run_key).size();
  }
  ASSERT_GE(after_kill, 3u);
  ASSERT_LT(after_kill, 300u);
  std::string resume_args, whole_args;
  for (std::size_t i = 1; i < args.size(); ++i) resume_args += " " + q(args[i]);
  const auto resumed = cli("run" + resume_args);
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("done: " + std::to_string(300 - after_kill) + " units computed, " +
                             std::to_string(after_kill) + " from the store"),
            std::string::npos)
      << resumed.out;
  // The same numbers as a run that was never interrupted.
  const auto whole = cli("run --model " + q(big) + " --tokenizer bytes --task wikitext --data " + q(data) +
                         " --max-length 32 --quiet --store " + q(tmp.path / "w.sqlite") + " --out " + q(tmp.path / "w.json"));
  ASSERT_EQ(whole.code, 0) << whole.out;
  EXPECT_EQ(json::parse(test::read_text(tmp.path / "k.json"))["results"],
            json::parse(test::read_text(tmp.path / "w.json"))["results"]);
}

using test::WorkerProcess;

TEST_F(RunCli, WorkerSpeaksJsonLines) {
  WorkerProcess w;
  EXPECT_EQ(w.next()["event"], "ready");
  w.send({{"id", 1}, {"cmd", "ping"}});
  const auto pong = w.next();
  EXPECT_EQ(pong["event"], "pong");
  EXPECT_EQ(pong["id"], 1);
  w.send({{"id", 2}, {"cmd", "inspect"}, {"model", model.string()}});
  EXPECT_EQ(w.next()["model"]["family"], "llama");
  w.send({{"id", "t"}, {"cmd", "tasks"}});
  const auto tasks = w.next();
  EXPECT_EQ(tasks["event"], "tasks");
  EXPECT_TRUE(tasks["tasks"].is_array() && !tasks["tasks"].empty());  // the names, as before the schema
  EXPECT_EQ(tasks["schema"]["schema_version"], 1);
  EXPECT_EQ(tasks["schema"]["tasks"].size(), tasks["tasks"].size());
  w.send({{"id", 3}, {"cmd", "frobnicate"}});
  const auto err = w.next();
  EXPECT_EQ(err["event"], "error");
  EXPECT_EQ(err["kind"], "bad_input");
  const json spec{{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
                  {"tasks", {{{"task", "ppl_vs_length"}, {"data", data.string()}, {"lengths", {8, 16, 32}}}}}};
  w.send({{"id", "r1"}, {"cmd", "run"}, {"spec", spec}, {"store", (tmp.path / "w.sqlite").string()}});
  std::vector<json> seen;
  const auto results = w.until("results", &seen);
  ASSERT_FALSE(results.is_null());
  EXPECT_EQ(results["id"], "r1");
  EXPECT_TRUE(results["complete"]);
  EXPECT_TRUE(results["results"]["results"]["ppl_vs_length"]["ppl@8,none"].is_number());
  std::set<std::string> kinds;
  int partial_points = 0;
  for (const auto& e : seen) {
    kinds.insert(e["event"].get<std::string>());
    if (e["event"] == "partial") partial_points = static_cast<int>(e["details"]["series"].size());
  }
  for (const char* k : {"start", "unit", "partial", "progress", "result", "done"}) EXPECT_TRUE(kinds.count(k)) << k;
  EXPECT_EQ(partial_points, 3);  // the last partial holds every length's point
  w.send({{"id", 5}, {"cmd", "history"}, {"store", (tmp.path / "w.sqlite").string()}});
  const auto h = w.until("history");
  ASSERT_EQ(h["task_runs"].size(), 1u);
  EXPECT_EQ(h["task_runs"][0]["task"], "ppl_vs_length");
  EXPECT_EQ(h["task_runs"][0]["alias"], "ppl_vs_length");  // no alias given: the task's name
  EXPECT_EQ(h["task_runs"][0]["unit_count"], h["task_runs"][0]["units_done"]);
  EXPECT_TRUE(h["task_runs"][0]["results"]["metrics"].contains("ppl@16"));
  // The worker is free as soon as the results line is out: a second run is accepted at once.
  w.send({{"id", "r2"}, {"cmd", "run"}, {"spec", spec}, {"store", (tmp.path / "w.sqlite").string()}});
  const auto second = w.until("results");
  ASSERT_FALSE(second.is_null());
  EXPECT_EQ(second["id"], "r2");
  // A shared run's pieces (the GUI over several GPUs): claims of a session, the aggregate-only run, releases.
  const std::string store2 = (tmp.path / "shared.sqlite").string();
  w.send({{"id", "c0"}, {"cmd", "run"}, {"spec", spec}, {"store", store2}, {"claims", 5}});
  const auto bad = w.until("error");
  EXPECT_EQ(bad["kind"], "bad_input");
  EXPECT_NE(bad["message"].get<std::string>().find("'claims'"), std::string::npos) << bad;
  w.send({{"id", "c1"}, {"cmd", "run"}, {"spec", spec}, {"store", store2}, {"claims", {{"session", "s1"}}}});
  const auto claimed = w.until("results");
  ASSERT_FALSE(claimed.is_null());
  EXPECT_FALSE(claimed["complete"]);  // a claiming worker aggregates nothing
  w.send({{"id", "c2"}, {"cmd", "run"}, {"spec", spec}, {"store", store2}, {"compute", false}});
  const auto aggregated = w.until("results");
  ASSERT_FALSE(aggregated.is_null());
  EXPECT_TRUE(aggregated["complete"]);
  EXPECT_EQ(aggregated["results"]["results"]["ppl_vs_length"], results["results"]["results"]["ppl_vs_length"]);
  w.send({{"id", "c3"}, {"cmd", "release_claims"}, {"store", store2}, {"session", "s1"}, {"worker", "12345"}});
  const auto released = w.until("claims_released");
  EXPECT_EQ(released["count"], 0);  // nothing held by that pid
  w.send({{"cmd", "quit"}});
  EXPECT_EQ(w.close_and_wait(), 0);
}

TEST_F(RunCli, WorkerCancelsARunAndKeepsItsUnits) {
  test::write_text(data, corpus(200));
  WorkerProcess w;
  w.next();
  const json spec{{"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
                  {"tasks", {{{"task", "wikitext"}, {"data", data.string()}, {"max_length", 8}}}}};
  w.send({{"id", "r"}, {"cmd", "run"}, {"spec", spec}, {"store", (tmp.path / "c.sqlite").string()}});
  ASSERT_FALSE(w.until("unit").is_null());
  w.send({{"id", "c"}, {"cmd", "cancel"}});
  const auto results = w.until("results");
  ASSERT_FALSE(results.is_null());
  EXPECT_TRUE(results["cancelled"]);
  EXPECT_FALSE(results["complete"]);
  run::ResultsStore s(tmp.path / "c.sqlite");
  const auto n = s.units(s.task_runs().at(0).run_key).size();
  EXPECT_GE(n, 1u);
  EXPECT_LT(n, 200u);
  EXPECT_EQ(w.close_and_wait(), 0);
}

TEST_F(RunCli, WorkerReadsPerItemOutcomesBackFromTheStore) {
  // The `items` request (docs/worker.md): per-item outcomes of stored task runs, for paired comparisons in the GUI.
  std::ofstream(tmp.path / "piqa.jsonl")
      << R"({"goal": "Keep bread fresh", "sol1": "Wrap it in a cloth.", "sol2": "Leave it in the rain.", "label": 0})" "\n"
      << R"({"goal": "Dry wet shoes", "sol1": "Stuff them with paper.", "sol2": "Fill them with water.", "label": 0})" "\n"
      << R"({"goal": "Cool hot soup", "sol1": "Boil it longer.", "sol2": "Stir it and wait.", "label": 1})" "\n";
  json tasks = json::array();
  tasks.push_back({{"task", "piqa"}, {"data", "piqa.jsonl"}});
  tasks.push_back({{"task", "ppl_vs_length"}, {"data", "wiki.raw"}, {"lengths", {16, 32}}});
  tasks.push_back({{"task", "passkey"}, {"lengths", {300}}, {"depths", {0.0, 1.0}}, {"trials", 2}});
  tasks.push_back({{"task", "wikitext"}, {"data", "wiki.raw"}, {"max_length", 16}});
  const json spec{{"models", {{{"path", "tiny"}, {"tokenizer", "bytes"}}}}, {"rope", {"", "linear:factor=2"}}, {"tasks", tasks}};
  test::write_text(tmp.path / "items.json", spec.dump());
  const auto store = tmp.path / "items.sqlite";
  ASSERT_EQ(cli("run " + q(tmp.path / "items.json") + " --store " + q(store) + " --quiet").code, 0);
  test::WorkerProcess w;
  EXPECT_EQ(w.next()["event"], "ready");
  w.send({{"id", 1}, {"cmd", "history"}, {"store", store.string()}});
  const auto h = w.until("history");
  ASSERT_EQ(h["task_runs"].size(), 8u);
  std::map<std::string, std::vector<std::string>> items_of;  // task → piqa item ids per run (to pair settings)
  for (const auto& t : h["task_runs"]) {
    const std::string task = t["task"];
    const auto& metrics = t["results"]["metrics"];
    w.send({{"id", 2}, {"cmd", "items"}, {"store", store.string()}, {"run_key", t["run_key"]}});
    const auto a = w.until("items");
    ASSERT_EQ(a["id"], 2);
    ASSERT_EQ(a["runs"].size(), 1u);
    const auto& run = a["runs"][0];
    EXPECT_EQ(run["run_key"], t["run_key"]);
    EXPECT_TRUE(run["complete"]) << task;
    EXPECT_EQ(run["units_stored"], run["unit_count"]) << task;
    std::map<std::string, json> by_name;
    for (const auto& o : run["outcomes"]) by_name[o["name"]] = o;
    auto mean = [](const json& o) {
      double s = 0;
      for (const auto& v : o["values"]) s += v.get<double>();
      return s / static_cast<double>(o["values"].size());
    };
    if (task == "piqa") {
      for (const char* m : {"acc", "acc_norm"}) {
        ASSERT_TRUE(by_name.count(m)) << m;
        EXPECT_TRUE(by_name[m]["binary"]);
        EXPECT_EQ(by_name[m]["items"], json({"0", "1", "2"}));
        EXPECT_NEAR(mean(by_name[m]), metrics[m].get<double>(), 1e-12) << m;  // the task's own aggregate
      }
      ASSERT_TRUE(by_name.count("loglik"));
      EXPECT_FALSE(by_name["loglik"]["binary"]);
      items_of[task].push_back(by_name["acc"]["items"].dump());
    } else if (task == "passkey") {
      ASSERT_TRUE(by_name.count("found@300"));
      EXPECT_EQ(by_name["found@300"]["values"].size(), 4u);  // 2 depths × 2 trials
      EXPECT_NEAR(mean(by_name["found@300"]), metrics["accuracy@300"].get<double>(), 1e-12);
    } else if (task == "ppl_vs_length" || task == "wikitext") {
      // per unit / document: the corpus-level value is a token- (byte-) weighted mean, so it lies within them
      for (const auto& [name, o] : by_name) {
        EXPECT_TRUE(o["lower_is_better"]) << name;
        double lo = 1e300, hi = -1e300;
        for (const auto& v : o["values"]) {
          lo = std::min(lo, v.get<double>());
          hi = std::max(hi, v.get<double>());
        }
        const double corpus = task == "wikitext" ? metrics["bits_per_byte"].get<double>()
                                                 : std::log(metrics["ppl@" + name.substr(4)].get<double>());
        EXPECT_LE(lo, corpus + 1e-9) << name;
        EXPECT_GE(hi, corpus - 1e-9) << name;
      }
      EXPECT_EQ(by_name.size(), task == "wikitext" ? 1u : 2u);
      if (task == "wikitext") EXPECT_EQ(by_name["bits_per_byte"]["values"].size(), 6u);
    }
  }
  ASSERT_EQ(items_of["piqa"].size(), 2u);
  EXPECT_EQ(items_of["piqa"][0], items_of["piqa"][1]);  // both settings answer on the same items
  w.send({{"id", 3}, {"cmd", "items"}, {"store", store.string()}, {"run_key", "nope"}});
  const auto e = w.until("error");
  EXPECT_EQ(e["kind"], "bad_input");
  EXPECT_NE(e["message"].get<std::string>().find("nope"), std::string::npos);
  EXPECT_EQ(w.close_and_wait(), 0);
}

}  // namespace
}  // namespace lmscope
