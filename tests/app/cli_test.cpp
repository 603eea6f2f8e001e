// lmscope-cli as a user runs it: exit codes, messages, and outputs checked against the references.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lmscope/random_checkpoint.h"
#include "lmscope/safetensors.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

using Result = test::CliResult;
inline Result cli(const std::string& args) { return test::run_cli(args); }

std::string join_ids(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

TEST(Cli, UsageAndUnknownCommands) {
  EXPECT_EQ(cli("").code, 2);
  EXPECT_EQ(cli("--help").code, 0);
  const auto r = cli("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(cli("inspect --model /x --colour red").out.find("unknown option --colour"), std::string::npos);
  // Every command of the usage table answers --help (and `help COMMAND`) with its own usage.
  const auto all = cli("--help");
  std::set<std::string> names;
  std::istringstream lines(all.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  ", 0) == 0 && line.size() > 2 && std::islower(static_cast<unsigned char>(line[2])))
      names.insert(line.substr(2, line.find_first_of(" \n", 2) - 2));
  EXPECT_GE(names.size(), 15u) << all.out;
  for (const auto& n : names) {
    for (const std::string& ask : {n + " --help", "help " + n}) {
      const auto h = cli(ask);
      EXPECT_EQ(h.code, 0) << ask << ": " << h.out;
      EXPECT_EQ(h.out.rfind("usage: lmscope-cli " + n, 0), 0u) << ask << ": " << h.out;
    }
  }
  EXPECT_EQ(cli("help frobnicate").code, 2);
}

TEST(Cli, TasksPrintTheSchemaForPeopleAndPrograms) {
  // by group, each task with its description
  const auto all = cli("tasks");
  ASSERT_EQ(all.code, 0) << all.out;
  for (const char* s : {"Perplexity", "Long context", "Multiple choice", "Generation", "Other", "ppl_vs_length",
                        "perplexity of long documents", "niah_multiquery", "social_iqa", "alias, limit"})
    EXPECT_NE(all.out.find(s), std::string::npos) << s << " in\n" << all.out;
  EXPECT_LT(all.out.find("Perplexity"), all.out.find("Long context"));
  // one task: its settings with type, default and range
  const auto tp = cli("tasks throughput");
  ASSERT_EQ(tp.code, 0) << tp.out;
  std::istringstream lines(tp.out);
  std::string seq_line;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  seq ", 0) == 0) seq_line = line;
  EXPECT_NE(seq_line.find("int list"), std::string::npos) << tp.out;
  EXPECT_NE(seq_line.find("512"), std::string::npos) << tp.out;
  EXPECT_NE(seq_line.find("[2 to 16777216]"), std::string::npos) << tp.out;
  EXPECT_NE(cli("tasks longppl").out.find("trunc_len"), std::string::npos);
  // the whole schema, and one task's, as JSON
  const auto j = nlohmann::json::parse(cli("tasks --json").out);
  EXPECT_EQ(j["schema_version"], 1);
  std::set<std::string> names;
  for (const auto& t : j["tasks"]) names.insert(t["name"].get<std::string>());
  for (const char* n : {"wikitext", "ppl_vs_length", "passkey", "longppl", "ruler", "recall", "compare", "throughput"})
    EXPECT_TRUE(names.count(n)) << n;
  const auto one = nlohmann::json::parse(cli("tasks passkey --json").out);
  EXPECT_EQ(one["name"], "passkey");
  bool trials = false;
  for (const auto& s : one["settings"])
    if (s["key"] == "trials") trials = s["default"] == 5 && s["type"] == "int" && s["min"] == 1;
  EXPECT_TRUE(trials) << one.dump();
  const auto bad = cli("tasks nosuchtask");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("unknown task 'nosuchtask'"), std::string::npos) << bad.out;
  EXPECT_EQ(cli("tasks --help").code, 0);
  // names one per line, for scripts (tools/installed-checks.sh)
  const auto names_out = cli("tasks --names").out;
  EXPECT_EQ(names_out.find("Perplexity"), std::string::npos);
  EXPECT_NE(names_out.find("\nthroughput\n"), std::string::npos) << names_out;
  EXPECT_EQ(std::count(names_out.begin(), names_out.end(), '\n'), static_cast<long>(j["tasks"].size()));
}

TEST(Cli, BadInputExitsTwoWithTheReason) {
  TempDir dir;
  auto r = cli("inspect --model " + (dir.path / "missing").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("missing"), std::string::npos);
  EXPECT_NE(r.out.find("not a folder"), std::string::npos);

  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path / "m");
  const std::string m = " --model " + (dir.path / "m").string();
  r = cli("logits" + m + " --tokens 1,x,3 --out " + (dir.path / "o.safetensors").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("'x'"), std::string::npos);
  r = cli("logits" + m + " --tokens 1,2,99 --out " + (dir.path / "o.safetensors").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("token id 99"), std::string::npos);
  r = cli("generate" + m + " --tokens 1,2 --max-new 3 --rope warp:factor=2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown RoPE type 'warp'"), std::string::npos);
  r = cli("generate" + m + " --tokens 1,2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--max-new"), std::string::npos);
  test::write_text(dir.path / "ids.json", "[1, 2, \"three\"]");
  r = cli("generate" + m + " --max-new 2 --tokens-file " + (dir.path / "ids.json").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("element 2"), std::string::npos);
}

TEST(Cli, InspectReportsTheRefpackModel) {
  const fs::path src = test::refpack_case("llama-yarn");
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/llama-yarn");
  auto r = cli("inspect --model " + src.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* part : {"llama", "328,320", "float32", "4 query / 2 key-value, head_dim 32", "yarn (theta 10000, factor 4",
                           "256 tokens", "tied"})
    EXPECT_NE(r.out.find(part), std::string::npos) << "missing '" << part << "' in:\n" << r.out;
  r = cli("inspect --json --model " + src.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["parameters"], 328320);
  EXPECT_EQ(j["rope"]["type"], "yarn");
  EXPECT_EQ(j["context_length"], 256);
}

TEST(Cli, LogitsAndGenerateReproduceTheReference) {
  const fs::path src = test::refpack_case("llama-llama3");
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/llama-llama3");
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  TempDir dir;
  const auto ids_b = test::read_ids(ref, "ids_b");
  const fs::path out = dir.path / "logits.safetensors";
  auto r = cli("logits --model " + src.string() + " --tokens " + join_ids(ids_b) + " --out " + out.string() + " --backend cpu");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto got = SafetensorsFile::open(out);
  EXPECT_EQ(got.find("logits")->shape, (std::vector<std::int64_t>{37, 256}));
  EXPECT_LT(test::max_abs_diff(test::read_f32(got, "logits"), test::read_f32(ref, "logits_b")), 1e-4);

  // the same through a token file, and greedy decoding
  std::string json = "[" + join_ids(ids_b) + "]";
  test::write_text(dir.path / "ids.json", json);
  r = cli("generate --model " + src.string() + " --tokens-file " + (dir.path / "ids.json").string() + " --max-new 16");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "[" + join_ids(test::read_ids(ref, "greedy_b")) + "]\n");
}

TEST(Cli, GenerateTakesTextThroughTheTokenizerAndPrintsText) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"eos_token_id", 2}}).dump(), dir.path / "m",
                          {.seed = 5, .stddev = 0.5f});
  const std::string m = "generate --model " + (dir.path / "m").string();
  // Text in, ids out: the same ids as the prompt's bytes given as tokens (text generation stops at EOS).
  auto ids_from_text = cli(m + " --tokenizer bytes --prompt Harbour --max-new 12 --ids");
  ASSERT_EQ(ids_from_text.code, 0) << ids_from_text.out;
  auto ids = cli(m + " --tokens 72,97,114,98,111,117,114 --max-new 12 --stop-at-eos");
  ASSERT_EQ(ids.code, 0) << ids.out;
  EXPECT_EQ(ids_from_text.out, ids.out);
  // Text out is the decoded continuation, streamed; from a file the same.
  test::write_text(dir.path / "prompt.txt", "Harbour");
  const auto text = cli(m + " --tokenizer bytes --prompt-file " + (dir.path / "prompt.txt").string() + " --max-new 12");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_EQ(text.out, cli(m + " --tokenizer bytes --prompt Harbour --max-new 12").out);
  EXPECT_EQ(text.out.back(), '\n');
  // Exactly one input; --stop only with text.
  auto r = cli(m + " --tokens 1,2 --prompt hi --max-new 2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("exactly one of --prompt"), std::string::npos) << r.out;
  r = cli(m + " --tokens 1,2 --max-new 2 --stop x");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--stop"), std::string::npos) << r.out;
}

TEST(Cli, RopeOverrideReachesTheModel) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path / "m");
  const std::string base = "logits --model " + (dir.path / "m").string() + " --tokens 1,2,3,4,5,6,7,8 --out ";
  ASSERT_EQ(cli(base + (dir.path / "a.safetensors").string()).code, 0);
  ASSERT_EQ(cli(base + (dir.path / "b.safetensors").string() + " --rope yarn:factor=4,original_max=8").code, 0);
  const auto a = test::read_f32(SafetensorsFile::open(dir.path / "a.safetensors"), "logits");
  const auto b = test::read_f32(SafetensorsFile::open(dir.path / "b.safetensors"), "logits");
  EXPECT_GT(test::max_abs_diff(a, b), 1e-6);
}

TEST(Cli, RandomCheckpointThenInspect) {
  TempDir dir;
  test::write_text(dir.path / "cfg.json", test::tiny_llama_config().dump());
  auto r = cli("random-checkpoint --config " + (dir.path / "cfg.json").string() + " --out " + (dir.path / "m").string() +
               " --dtype BF16 --shards 2");
  ASSERT_EQ(r.code, 0) << r.out;
  r = cli("inspect --model " + (dir.path / "m").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("bfloat16"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 files"), std::string::npos) << r.out;
}

TEST(Cli, BenchReportsThroughputOnARandomConfig) {
  TempDir dir;
  test::write_text(dir.path / "cfg.json", test::tiny_llama_config().dump());
  auto r = cli("bench --config " + (dir.path / "cfg.json").string() + " --batch 2 --seq 16 --repeat 2 --warmup 0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("batch 2 x seq 16"), std::string::npos) << r.out;
  EXPECT_EQ(cli("bench --batch 2 --seq 16").code, 2);  // neither --config nor --model
}

std::string with_commas(std::int64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

TEST(Cli, InspectReportsTheLinearFamilies) {
  TempDir dir;
  struct Case {
    nlohmann::json config;
    std::vector<std::string> text;  // parts the text output must contain
    std::string mixer;
  };
  const nlohmann::json base = {{"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 3}, {"intermediate_size", 48}};
  auto with = [&](nlohmann::json j) {
    j.merge_patch(base);
    return j;
  };
  const std::vector<Case> cases = {
      {with({{"model_type", "delta_net"}, {"num_heads", 4}, {"use_beta", false}}),
       {"delta_net (model_type 'delta_net', fla layout)", "mixer          delta rule\n",
        "4 query/key × d_k 8, 4 value × d_v 8", "beta           1 (use_beta false)", "RoPE           none"},
       "delta rule"},
      {with({{"model_type", "gated_deltanet"}, {"num_heads", 2}, {"head_dim", 8}, {"expand_v", 2},
             {"attn", {{"layers", {1}}, {"num_heads", 4}, {"num_kv_heads", 2}, {"window_size", 16}, {"rope_theta", 500.0}}}}),
       {"gated_deltanet (model_type 'gated_deltanet', fla layout)", "gated delta rule; softmax attention in layer 1",
        "2 query/key × d_k 8, 2 value × d_v 16", "softplus", "hybrid         layer 1: softmax attention, 4 heads / 2 KV",
        "sliding window 16", "RoPE           default (theta 500) in the attention layers"},
       "gated delta rule"},
      {with({{"model_type", "bitnet"}, {"num_heads", 4}, {"num_kv_heads", 2}}),
       {"bitnet (model_type 'bitnet', fla layout)", "heads          4 query / 2 key-value, head_dim 8", "BitLinear q/k/v/o",
        "ternary-packed", "9,216 ternary weights in 12 matrices"},
       "attention"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto m = dir.path / ("m" + std::to_string(i));
    const std::int64_t params = write_random_checkpoint(cases[i].config.dump(), m);
    auto r = cli("inspect --model " + m.string());
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("parameters     " + with_commas(params) + "\n"), std::string::npos) << r.out;
    for (const auto& part : cases[i].text) EXPECT_NE(r.out.find(part), std::string::npos) << "missing '" << part << "' in:\n" << r.out;
    r = cli("inspect --json --model " + m.string());
    ASSERT_EQ(r.code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["parameters"], params);
    EXPECT_EQ(j["model_type"], cases[i].config["model_type"]);
    EXPECT_EQ(j["mixer"], cases[i].mixer);
    EXPECT_FALSE(j["details"].empty());
    EXPECT_EQ(j.contains("ternary_packed"), cases[i].mixer == "attention");
  }
  // the bitnet fixture: 3 layers of q 32×32, k and v 16×32, o 32×32 ternary at 2 bits, one float32 scale per matrix,
  // everything else as stored (float32)
  const auto j = nlohmann::json::parse(cli("inspect --json --model " + (dir.path / "m2").string()).out);
  const std::int64_t ternary = 3 * (1024 + 512 + 512 + 1024), params = j["parameters"];
  EXPECT_EQ(j["ternary_packed"]["ternary_parameters"], ternary);
  EXPECT_EQ(j["ternary_packed"]["bytes_2bit"], ternary / 4 + 12 * 4 + (params - ternary) * 4);
  EXPECT_EQ(nlohmann::json::parse(cli("inspect --json --model " + (dir.path / "m0").string()).out)["rope"]["type"], "none");
}

TEST(Cli, InspectReportsTheRefpackHybrid) {
  const fs::path src = test::refpack_case("fla-gated_deltanet-h1");
  LMSCOPE_REQUIRE_PATH(src, "../shared/refpack/fla-gated_deltanet-h1");
  const auto r = cli("inspect --json --model " + src.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["parameters"], 678928);
  EXPECT_EQ(j["family"], "gated_deltanet");
  EXPECT_EQ(j["attention_layers"], nlohmann::json::array({1}));
  EXPECT_EQ(j["window_size"], 64);
  // greedy decoding through the recurrent state and the window ring reproduces fla's continuation
  const auto ref = SafetensorsFile::open(src / "reference.safetensors");
  const auto g = cli("generate --model " + src.string() + " --tokens " + join_ids(test::read_ids(ref, "ids_b")) + " --max-new 16");
  ASSERT_EQ(g.code, 0) << g.out;
  EXPECT_EQ(g.out, "[" + join_ids(test::read_ids(ref, "greedy_b")) + "]\n");
}

TEST(Cli, UnsupportedSwitchFailsClearly) {
  TempDir dir;
  nlohmann::json cfg = {{"model_type", "delta_net"}, {"vocab_size", 64}, {"hidden_size", 32}, {"num_hidden_layers", 1},
                        {"num_heads", 4}, {"qk_activation", "tanh"}};
  test::write_text(dir.path / "config.json", cfg.dump());
  const auto r = cli("inspect --model " + dir.path.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("field 'qk_activation': expected \"silu\", \"relu\", \"elu\" or \"identity\", got \"tanh\""),
            std::string::npos)
      << r.out;
}

// A checkpoint whose config says its weights are not what the family computes exits 2 with the reason; the user
// can still load it as a family they name, and inspect says so.
TEST(Cli, RefusedCheckpointExitsTwoAndForceFamilyOverrides) {
  TempDir dir;
  write_random_checkpoint(test::tiny_llama_config().dump(), dir.path / "m");
  auto cfg = nlohmann::json::parse(test::read_text(dir.path / "m" / "config.json"));
  cfg["architectures"] = {"BitnetForCausalLM"};  // 1bitLLM's BitNet reproductions: model_type llama
  cfg["weight_bits"] = 1;
  test::write_text(dir.path / "m" / "config.json", cfg.dump());
  auto r = cli("inspect --model " + (dir.path / "m").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("field 'weight_bits'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--force-family llama"), std::string::npos) << r.out;
  r = cli("inspect --model " + (dir.path / "m").string() + " --force-family llama");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("forced family"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BitnetForCausalLM"), std::string::npos) << r.out;
  r = cli("logits --model " + (dir.path / "m").string() + " --tokens 1,2,3 --out " + (dir.path / "l.safetensors").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(cli("logits --model " + (dir.path / "m").string() + " --tokens 1,2,3 --force-family llama --out " +
                (dir.path / "l.safetensors").string())
                .code,
            0);
}

TEST(Cli, TokenizeAndDetokenize) {
  auto r = cli("tokenize --tokenizer bytes --text hi");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "[104,105]\n");
  r = cli("detokenize --tokenizer bytes --ids 104,105");
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(cli("tokenize --tokenizer bytes").code, 2);  // no input
  EXPECT_NE(cli("tokenize --tokenizer /nonexistent/tok.json --text x").out.find("/nonexistent/tok.json"), std::string::npos);
  const fs::path shared = test::shared_dir();
  const fs::path llama3 = shared.empty() ? shared : shared / "data/tokenizers/llama3";
  LMSCOPE_REQUIRE_PATH(llama3, "../shared/data/tokenizers/llama3");
  TempDir dir;
  test::write_text(dir.path / "in.jsonl", "{\"text\": \"Hello world\"}\n{\"text\": \"\"}\n");
  r = cli("tokenize --tokenizer " + llama3.string() + " --jsonl " + (dir.path / "in.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "[128000,9906,1917]\n[128000]\n");
  r = cli("tokenize --no-bos --tokenizer " + llama3.string() + " --text 'Hello world'");
  EXPECT_EQ(r.out, "[9906,1917]\n");
  r = cli("detokenize --tokenizer " + llama3.string() + " --ids 9906,1917");
  EXPECT_EQ(r.out, "Hello world\n");
  test::write_text(dir.path / "bad.jsonl", "{\"body\": 1}\n");
  r = cli("tokenize --tokenizer " + llama3.string() + " --jsonl " + (dir.path / "bad.jsonl").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("line 1 has no string field 'text'"), std::string::npos) << r.out;
}

TEST(Cli, DemoRunsOnWhatShips) {
  const auto r = cli("demo");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("demo-bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("greedy"), std::string::npos) << r.out;
  // the trained byte-level model: well under a random model's 8 bits per byte on our own paragraph
  const auto at = r.out.find(" bits/byte", r.out.find("score "));
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto from = r.out.rfind(", ", at);
  const double bpb = std::stod(r.out.substr(from + 2, at - from - 2));
  EXPECT_LT(bpb, 4.0) << r.out;
}

}  // namespace
}  // namespace lmscope
