// `lmscope-cli slurm`: the scripts it writes (quoting of paths with spaces and quotes, the array range, shards, the
// dependency of the merge job), the scripts run by hand as Slurm would run them giving a single process's results,
// refusals, and — where a Slurm cluster answers (tools/slurm-localhost.sh) — a real submission.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "lmscope/random_checkpoint.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string q(const fs::path& p) {
  std::string s = "'";
  for (const char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

test::CliResult shell(const std::string& command) {
  test::CliResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class SlurmCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = tmp.path / "a study's folder";  // a space and a quote in every path the scripts name
    fs::create_directories(dir);
    model = dir / "model";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"max_position_embeddings", 64}}).dump(), model,
                            {.seed = 3, .stddev = 0.3f});
    std::string text;
    for (int d = 0; d < 12; ++d) text += " = Note " + std::to_string(d) + " = \n The boats lifted at their moorings . \n";
    test::write_text(dir / "wiki.raw", text);
  }
  fs::path write_spec(const std::string& backend) {
    const auto spec = dir / ("spec-" + backend + ".json");
    test::write_text(spec, json{{"lmscope_run", 1},
                                {"name", "tiny study"},
                                {"models", {{{"path", "model"}, {"tokenizer", "bytes"}}}},
                                {"rope", {"", "linear:factor=2"}},
                                {"tasks", {{{"task", "wikitext"}, {"data", "wiki.raw"}, {"max_length", 16}}}},
                                {"backend", backend}}
                               .dump());
    return spec;
  }
  test::TempDir tmp;
  fs::path dir, model;
};

TEST_F(SlurmCli, ScriptsQuotePathsAndDeclareTheArrayShardsAndDependency) {
  const auto spec = write_spec("cuda");
  const auto out = dir / "slurm out";
  const auto r = test::run_cli("slurm " + q(spec) + " --tasks 3 --gpus-per-task 2 --partition gpu --time 2:00:00 --out " + q(out));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto array = test::read_text(out / "array.sbatch");
  const auto merge = test::read_text(out / "merge.sbatch");
  const auto submit = test::read_text(out / "submit.sh");
  // Paths are single-quoted shell words, a quote inside written as '\''.
  const std::string quoted_out = "out='" + tmp.path.string() + "/a study'\\''s folder/slurm out'";
  for (const auto* s : {&array, &merge, &submit}) EXPECT_NE(s->find(quoted_out), std::string::npos) << *s;
  EXPECT_NE(array.find("spec='" + tmp.path.string() + "/a study'\\''s folder/spec-cuda.json'"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --array=0-2\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --gres=gpu:2\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --partition=gpu\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --time=2:00:00\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --job-name=lmscope-tiny_study\n"), std::string::npos) << array;
  EXPECT_NE(array.find("--shard \"${SLURM_ARRAY_TASK_ID}/3\" --store \"$out/stores/shard-${SLURM_ARRAY_TASK_ID}.sqlite\""),
            std::string::npos)
      << array;
  EXPECT_NE(array.find("--gpus 2"), std::string::npos) << array;
  EXPECT_EQ(array.find("#SBATCH --output"), std::string::npos) << "no path in a directive\n" << array;
  EXPECT_NE(merge.find("merge \"$out/merged.sqlite\" \"$out/stores/shard-0.sqlite\" \"$out/stores/shard-1.sqlite\" "
                       "\"$out/stores/shard-2.sqlite\""),
            std::string::npos)
      << merge;
  EXPECT_NE(merge.find("--out \"$out/results.json\""), std::string::npos) << merge;
  EXPECT_EQ(merge.find("--gres"), std::string::npos) << "the merge job needs no GPU\n" << merge;
  EXPECT_NE(submit.find("array_job=$(sbatch --parsable"), std::string::npos) << submit;
  EXPECT_NE(submit.find("--dependency=afterok:\"$array_job\""), std::string::npos) << submit;
  for (const char* f : {"array.sbatch", "merge.sbatch", "submit.sh"}) {
    const auto check = shell("bash -n " + q(out / f));
    EXPECT_EQ(check.code, 0) << f << ": " << check.out;
  }
  // One GPU per task: the task's process uses the GPU Slurm gave it, without --gpus.
  const auto one = test::run_cli("slurm " + q(spec) + " --tasks 2 --out " + q(out));
  ASSERT_EQ(one.code, 0) << one.out;
  const auto array1 = test::read_text(out / "array.sbatch");
  EXPECT_NE(array1.find("#SBATCH --gres=gpu:1\n"), std::string::npos) << array1;
  EXPECT_EQ(array1.find("--gpus"), std::string::npos) << array1;
  EXPECT_EQ(array1.find("--partition"), std::string::npos) << array1;
}

TEST_F(SlurmCli, TheScriptsRunAsSlurmWouldGiveASingleProcesssResults) {
  const auto spec = write_spec("cpu");
  const auto out = dir / "slurm out";
  const auto r = test::run_cli("slurm " + q(spec) + " --tasks 3 --out " + q(out));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(test::read_text(out / "array.sbatch").find("--gres"), std::string::npos);
  for (int i = 0; i < 3; ++i) {
    const auto task = shell("SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " bash " + q(out / "array.sbatch"));
    ASSERT_EQ(task.code, 0) << task.out;
  }
  const auto merged = shell("bash " + q(out / "merge.sbatch"));
  ASSERT_EQ(merged.code, 0) << merged.out;
  const auto single = test::run_cli("run " + q(spec) + " --quiet --store " + q(tmp.path / "one.sqlite") + " --out " +
                                    q(tmp.path / "one.json"));
  ASSERT_EQ(single.code, 0) << single.out;
  const auto a = json::parse(test::read_text(out / "results.json"));
  const auto b = json::parse(test::read_text(tmp.path / "one.json"));
  ASSERT_EQ(a["runs"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(a["runs"][i]["results"], b["runs"][i]["results"]) << i;
}

TEST_F(SlurmCli, BadRequestsAreRefused) {
  const auto cpu = write_spec("cpu"), cuda = write_spec("cuda");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"slurm " + q(cpu) + " --gpus-per-task 1", "spec's backend is cpu"},
      {"slurm " + q(cuda) + " --gpus-per-task 0", "spec's backend is cuda"},
      {"slurm " + q(cpu) + " --tasks 0", "--tasks"},
      {"slurm " + q(cpu) + " --time 'two hours'", "expected a Slurm time limit"},
      {"slurm " + q(cpu) + " --partition 'a b'", "expected a partition name"},
      {"slurm --tasks 2", "give a run spec file first"},
      {"slurm " + q(dir / "missing.json"), "missing.json"},
  };
  for (const auto& [args, expect] : cases) {
    const auto r = test::run_cli(args + " --out " + q(tmp.path / "o"));
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << args << "\n" << r.out;
  }
}

// A real cluster: runs where `sinfo` answers (tools/slurm-localhost.sh starts slurmctld + slurmd on this machine).
TEST_F(SlurmCli, ASubmittedArrayAndMergeJobGiveASingleProcesssResults) {
  if (shell("command -v sbatch && sinfo -h -o %T").code != 0 || shell("sinfo -h -o %T").out.find("idle") == std::string::npos)
    GTEST_SKIP() << "skipped: no Slurm cluster answers here (sbatch/sinfo missing or no idle node); start one with "
                    "tools/slurm-localhost.sh";
  // Slurm runs the jobs as this user, on a file system it shares with us: the temporary folder.
  const auto spec = write_spec("cpu");
  const auto out = dir / "slurm out";
  const auto r = test::run_cli("slurm " + q(spec) + " --tasks 2 --time 5 --out " + q(out) + " --submit");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("merge job"), std::string::npos) << r.out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (!fs::exists(out / "results.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // written whole (OutputFile), but give it a moment
  ASSERT_TRUE(fs::exists(out / "results.json")) << shell("squeue; cat " + q(out / "logs") + "/*").out;
  const auto single = test::run_cli("run " + q(spec) + " --quiet --store " + q(tmp.path / "one.sqlite") + " --out " +
                                    q(tmp.path / "one.json"));
  ASSERT_EQ(single.code, 0) << single.out;
  const auto a = json::parse(test::read_text(out / "results.json"));
  const auto b = json::parse(test::read_text(tmp.path / "one.json"));
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(a["runs"][i]["results"], b["runs"][i]["results"]) << i;
}

}  // namespace
}  // namespace lmscope
