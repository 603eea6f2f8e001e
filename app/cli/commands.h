// lmscope-cli subcommands, one per file. Each returns the process exit code; BadInput escapes to main (exit 2).
#pragma once

#include <string>
#include <vector>

namespace lmscope::cli {

using Argv = std::vector<std::string>;

int cmd_inspect(const Argv& argv);
int cmd_logits(const Argv& argv);
int cmd_generate(const Argv& argv);
int cmd_random_checkpoint(const Argv& argv);
int cmd_demo(const Argv& argv);
int cmd_devices(const Argv& argv);
int cmd_bench(const Argv& argv);
int cmd_tokenize(const Argv& argv);
int cmd_detokenize(const Argv& argv);

}  // namespace lmscope::cli
