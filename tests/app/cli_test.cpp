// lmscope-cli as a user runs it: exit codes, messages, and outputs checked against the references.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "lmscope/random_checkpoint.h"
#include "lmscope/safetensors.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr together
};

Result cli(const std::string& args) {
  const std::string cmd = std::string(LMSCOPE_CLI) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

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

TEST(Cli, DemoRunsOnWhatShips) {
  const auto r = cli("demo");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("RANDOM weights"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bits/byte"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("greedy"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace lmscope
