// lmscope-cli subcommands, one per file. Each returns the process exit code; BadInput escapes to main (exit 2).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <vector>

namespace lmscope::cli {

using Argv = std::vector<std::string>;

int cmd_inspect(const Argv& argv);
}  // namespace lmscope::cli
namespace lmscope {
class Checkpoint;
}
namespace lmscope::cli {
// What `inspect --json` prints (also the worker's answer to "inspect").
nlohmann::json inspect_json(const Checkpoint& checkpoint);
int cmd_logits(const Argv& argv);
int cmd_generate(const Argv& argv);
int cmd_random_checkpoint(const Argv& argv);
int cmd_demo(const Argv& argv);
int cmd_devices(const Argv& argv);
int cmd_bench(const Argv& argv);
int cmd_tokenize(const Argv& argv);
int cmd_detokenize(const Argv& argv);
int cmd_run(const Argv& argv);
int cmd_merge(const Argv& argv);
int cmd_slurm(const Argv& argv);
int cmd_worker(const Argv& argv);
int cmd_tasks(const Argv& argv);
int cmd_results(const Argv& argv);
// $XDG_DATA_HOME/lmscope/results.sqlite (~/.local/share/...), the folder created.
std::string default_store_path();

}  // namespace lmscope::cli
