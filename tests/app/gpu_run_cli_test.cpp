// `lmscope-cli run --gpus` on fake devices (LMSCOPE_FAKE_GPUS: workers on the CPU backend): every unit computed
// once and spread over the workers, a killed worker's units finished by the others, SIGTERM stopping every worker
// with a consistent store, the results of a single process, and the refusals of bad --gpus requests.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "lmscope/random_checkpoint.h"
#include "lmscope/run/results_store.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

test::CliResult cli_with_fake_gpus(int gpus, const std::string& args) {
  return test::run_cli_with("export LMSCOPE_FAKE_GPUS=" + std::to_string(gpus) + "; ", args);
}

// The pids of `parent`'s child processes (from /proc).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

bool alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

class GpuRunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    model = tmp.path / "model";
    write_random_checkpoint(test::tiny_llama_config({{"vocab_size", 256}, {"hidden_size", 256}, {"intermediate_size", 768},
                                                     {"num_hidden_layers", 4}, {"num_attention_heads", 8},
                                                     {"num_key_value_heads", 4}, {"head_dim", 32}, {"bos_token_id", 1},
                                                     {"max_position_embeddings", 256}})
                                .dump(),
                            model, {.seed = 5});
    data = tmp.path / "wiki.raw";
  }
  // A spec of two RoPE settings × wikitext over `documents` documents.
  fs::path write_spec(int documents) {
    test::write_text(data, test::wikitext_notes(documents));
    const auto spec = tmp.path / "spec.json";
    test::write_text(spec, json{{"lmscope_run", 1},
                                {"models", {{{"path", model.string()}, {"tokenizer", "bytes"}}}},
                                {"rope", {"", "linear:factor=2"}},
                                {"tasks", {{{"task", "wikitext"}, {"data", data.string()}, {"max_length", 32}}}},
                                {"backend", "cpu"}}
                               .dump());
    return spec;
  }
  // The same spec in one process, into its own store.
  json single_process_results(const fs::path& spec) {
    const auto r = test::run_cli("run " + q(spec) + " --quiet --store " + q(tmp.path / "single.sqlite") + " --out " +
                                 q(tmp.path / "single.json"));
    EXPECT_EQ(r.code, 0) << r.out;
    return json::parse(test::read_text(tmp.path / "single.json"));
  }
  static pid_t spawn_run(const std::vector<std::string>& args, int gpus, const fs::path& log) {
    return test::spawn_cli(args, log, {"LMSCOPE_FAKE_GPUS=" + std::to_string(gpus)});
  }
  // Units stored so far in `store` (over all its task runs).
  static std::size_t stored_units(const fs::path& store) {
    if (!fs::exists(store)) return 0;
    try {
      run::ResultsStore s(store);
      std::size_t n = 0;
      for (const auto& r : s.task_runs()) n += static_cast<std::size_t>(s.unit_count_stored(r.run_key));
      return n;
    } catch (const std::exception&) {
      return 0;
    }
  }
  static bool wait_for_units(const fs::path& store, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (stored_units(store) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  test::TempDir tmp;
  fs::path model, data;
};

// "units computed per GPU: GPU 0: 13, GPU 1: 14" → {13, 14}
std::vector<long> units_per_gpu(const std::string& out) {
  std::vector<long> n;
  const auto at = out.find("units computed per GPU:");
  if (at == std::string::npos) return n;
  const auto line = out.substr(at, out.find('\n', at) - at);
  static const std::regex one("GPU [^:]+: (\\d+)");
  for (std::sregex_iterator it(line.begin(), line.end(), one), end; it != end; ++it) n.push_back(std::stol((*it)[1]));
  return n;
}

TEST_F(GpuRunCli, ThreeFakeGpusComputeEveryUnitOnceAndAsOneProcessWould) {
  const auto spec = write_spec(60);  // 2 settings × 60 documents = 120 units
  const auto store = tmp.path / "gpus.sqlite";
  const auto r = cli_with_fake_gpus(3, "run " + q(spec) + " --gpus all --store " + q(store) + " --out " + q(tmp.path / "gpus.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("3 workers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done: 120 units computed, 0 from the store"), std::string::npos) << r.out;
  const auto per_gpu = units_per_gpu(r.out);
  ASSERT_EQ(per_gpu.size(), 3u) << r.out;
  long total = 0, busy = 0;
  for (const auto n : per_gpu) {
    total += n;
    busy += n > 0;
  }
  EXPECT_EQ(total, 120) << r.out;  // each unit once: claims are exclusive and every claimed unit was stored
  EXPECT_GE(busy, 2) << "only one worker got work\n" << r.out;
  EXPECT_EQ(stored_units(store), 120u);
  const auto gpus = json::parse(test::read_text(tmp.path / "gpus.json"));
  const auto single = single_process_results(spec);
  ASSERT_EQ(gpus["runs"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(gpus["runs"][i]["results"], single["runs"][i]["results"]) << i;
    EXPECT_EQ(gpus["runs"][i]["n-samples"], single["runs"][i]["n-samples"]) << i;
    EXPECT_EQ(gpus["runs"][i]["lmscope"]["run_keys"], single["runs"][i]["lmscope"]["run_keys"]) << i;
  }
  // The summary is a single process's too.
  const auto again = cli_with_fake_gpus(2, "run " + q(spec) + " --gpus 2 --store " + q(store));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("done: 0 units computed, 120 from the store"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("word_perplexity"), std::string::npos) << again.out;
}

TEST_F(GpuRunCli, AKilledWorkersUnitsAreFinishedByTheOthers) {
  const auto spec = write_spec(100);  // 200 units
  const auto store = tmp.path / "k.sqlite";
  const auto log = tmp.path / "k.log";
  const pid_t pid = spawn_run({"run", spec.string(), "--gpus", "2", "--store", store.string(), "--out",
                               (tmp.path / "k.json").string()},
                              2, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_units(store, 10)) << test::read_text(log);
  const auto workers = children_of(pid);
  ASSERT_EQ(workers.size(), 2u) << test::read_text(log);
  kill(workers[0], SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const auto out = test::read_text(log);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("ended (killed by signal 9"), std::string::npos) << "the worker finished before the kill\n" << out;
  EXPECT_EQ(stored_units(store), 200u) << out;
  EXPECT_NE(out.find("done: 200 units computed"), std::string::npos) << out;
  const auto gpus = json::parse(test::read_text(tmp.path / "k.json"));
  const auto single = single_process_results(spec);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(gpus["runs"][i]["results"], single["runs"][i]["results"]) << i;
}

TEST_F(GpuRunCli, SigtermStopsEveryWorkerKeepsFinishedUnitsAndARerunResumes) {
  const auto spec = write_spec(100);  // 200 units
  const auto store = tmp.path / "t.sqlite";
  const auto log = tmp.path / "t.log";
  const pid_t pid = spawn_run({"run", spec.string(), "--gpus", "all", "--store", store.string()}, 2, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_units(store, 10)) << test::read_text(log);
  const auto workers = children_of(pid);
  ASSERT_EQ(workers.size(), 2u) << test::read_text(log);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  const auto out = test::read_text(log);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  ASSERT_EQ(WEXITSTATUS(status), 130) << out;
  for (const auto w : workers) EXPECT_FALSE(alive(w)) << "worker " << w << " outlived the run";
  EXPECT_NE(out.find("cancelled:"), std::string::npos) << out;
  EXPECT_NE(out.find("incomplete"), std::string::npos) << out;
  const auto kept = stored_units(store);
  ASSERT_GE(kept, 10u);
  ASSERT_LT(kept, 200u) << "the run finished before SIGTERM; make it longer";
  // Resumed by a run on fake GPUs: only the missing units are computed, and the numbers are a single process's.
  const auto resumed = cli_with_fake_gpus(2, "run " + q(spec) + " --gpus all --store " + q(store) + " --out " + q(tmp.path / "t.json"));
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("done: " + std::to_string(200 - kept) + " units computed, " + std::to_string(kept) +
                             " from the store"),
            std::string::npos)
      << resumed.out;
  const auto gpus = json::parse(test::read_text(tmp.path / "t.json"));
  const auto single = single_process_results(spec);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(gpus["runs"][i]["results"], single["runs"][i]["results"]) << i;
}

TEST_F(GpuRunCli, BadGpuRequestsAreRefusedWithTheReason) {
  const auto spec = write_spec(3);
  const auto store = " --store " + q(tmp.path / "e.sqlite");
  struct Case {
    int fake;  // LMSCOPE_FAKE_GPUS, -1 unset
    std::string args, expect;
  };
  const std::vector<Case> cases{
      {2, "run " + q(spec) + " --gpus 0,0", "device 0 is listed twice"},
      {2, "run " + q(spec) + " --gpus 5", "asks for 5 devices, but 2 devices visible"},
      {2, "run " + q(spec) + " --gpus 0,7", "there is no device 7"},
      {2, "run " + q(spec) + " --gpus none", "expected all, a count"},
      {2, "run --model " + q(model) + " --tokenizer bytes --task wikitext --data " + q(data) + " --backend cuda --gpus all",
       "LMSCOPE_FAKE_GPUS is set"},
      // Without fake devices: a cpu backend is refused, and this CPU-only build sees no device.
      {-1, "run --model " + q(model) + " --tokenizer bytes --task wikitext --data " + q(data) + " --backend cpu --gpus all",
       "--backend is cpu"},
      {-1, "run " + q(spec) + " --gpus all", "the spec's backend is cpu"},
  };
  for (const auto& c : cases) {
    const auto r = c.fake >= 0 ? cli_with_fake_gpus(c.fake, c.args + store)
                               : test::run_cli_with("unset LMSCOPE_FAKE_GPUS; ", c.args + store);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace lmscope
