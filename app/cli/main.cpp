// lmscope-cli: the engine, headless. Exit codes: 0 ok, 2 bad input (the message says what to fix), 1 internal error.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/man_page.h"
#include "lmscope/error.h"
#include "lmscope/version.h"

namespace {

struct Command {
  std::function<int(const lmscope::cli::Argv&)> run;
  const char* usage;
};

const std::map<std::string, Command>& commands() {
  using namespace lmscope::cli;
  static const std::map<std::string, Command> c{
      {"inspect", {cmd_inspect, "inspect --model DIR [--json] [--force-family ID]\n"
                            "                                              family, parameters, dtype, layers, heads, RoPE, context, size"}},
      {"logits", {cmd_logits, "logits --model DIR (--tokens 1,2,3 | --tokens-file ids.json | --batch-file seqs.json) --out FILE.safetensors\n"
                              "       [--backend cpu|cuda] [--dtype fp32|bf16] [--rope TYPE:key=value,...] [--hidden] [--allow-nonfinite]\n"
                              "       [--force-family ID]                    one forward pass from an empty state"}},
      {"generate", {cmd_generate, "generate --model DIR (--prompt TEXT | --prompt-file FILE) [--max-new N (64)] [--stop STRING] [--ids]\n"
                                  "       [--tokenizer FILE|bytes]    text through the model's tokenizer; prints the continuation as it is\n"
                                  "                                   decoded (stops at EOS, before --stop; --ids: the new ids as JSON)\n"
                                  "generate --model DIR (--tokens 1,2,3 | --tokens-file ids.json) --max-new N [--stop-at-eos]\n"
                                  "                                   prints the new ids as JSON\n"
                                  "       [--backend cpu|cuda] [--dtype fp32|bf16] [--rope ...] [--allow-nonfinite] [--force-family ID]\n"
                                  "                                              greedy decoding through the KV cache (N <= 65536)"}},
      {"random-checkpoint", {cmd_random_checkpoint, "random-checkpoint --config config.json --out DIR [--seed S] [--dtype F32|F16|BF16] [--shards N]\n"
                                                    "                                              a checkpoint folder with random weights for a config"}},
      {"demo", {cmd_demo, "demo [--model DIR] | demo (--report DIR | --spec-out FILE) [--backend cpu|cuda]\n"
                          "                                              score a built-in text and generate with a small model;\n"
                          "                                              --report: compare the demo models, write figures and tables;\n"
                          "                                              --spec-out: write that comparison's run spec"}},
      {"bench", {cmd_bench, "bench (--config CONFIG.json | --model DIR) [--batch B] [--seq T] [--dtype fp32|bf16] [--backend cpu|cuda]\n"
                            "       [--repeat N] [--warmup N] [--micro-batch M]  scoring throughput: tokens/s, ms/batch, TFLOP/s, peak memory\n"
                            "       [--rope TYPE:key=value,...] [--allow-nonfinite] [--force-family ID]\n"
                            "       [--generate N [--prefill-chunk C]]  instead: B prompts of T tokens decoded N tokens each;\n"
                            "                                              prefill and decode tokens/s, ms per item"}},
      {"tokenize", {cmd_tokenize, "tokenize (--model DIR | --tokenizer FILE|bytes) (--text S | --text-file F | --jsonl F [--field text])\n"
                                  "       [--no-bos] [--allow-special] [--stats]      ids as JSON, one line per input"}},
      {"detokenize", {cmd_detokenize, "detokenize (--model DIR | --tokenizer FILE|bytes) (--ids 1,2,3 | --ids-file ids.json)"}},
      {"run", {cmd_run, "run (SPEC.json | --model DIR --task NAME [--data PATH] [--tokenizer bytes|PATH] [--max-length N]\n"
                        "       [--limit N] [--seed S] [--batch-size B] [--rope TYPE:k=v,...] [--settings JSON] [--backend cpu|cuda]\n"
                        "       [--dtype fp32|bf16] [--force-family ID]) [--store FILE]\n"
                        "       [--out results.json] [--shard i/N] [--gpus all|N|0,2,5] [--log-samples FILE.jsonl] [--quiet]\n"
                        "       [--allow-nonfinite] [--check]          evaluate; units go to the results store; resumes;\n"
                        "                                              --gpus: one worker per GPU, units to whichever is free;\n"
                        "                                              --check: read and check the data and settings only,\n"
                        "                                              say what would run (exit 2 naming any problem)"}},
      {"results", {cmd_results, "results [--store FILE] [--task NAME] [--model NAME] [--json]\n"
                                "                                              what a results store holds: task runs, units, metrics"}},
      {"slurm", {cmd_slurm, "slurm SPEC.json [--tasks N (4)] [--gpus-per-task G] [--partition P] [--time T] [--out DIR]\n"
                            "       [--submit]                             a Slurm array of N shards (--shard i/N, each into its\n"
                            "                                              own store) and a merge job after them that writes\n"
                            "                                              DIR/results.json; --submit: sbatch both"}},
      {"merge", {cmd_merge, "merge INTO.sqlite FROM.sqlite...              combine results stores (e.g. of shards)"}},
      {"worker", {cmd_worker, "worker                                       the engine as JSON lines on stdin/stdout (docs/worker.md)"}},
      {"tasks", {cmd_tasks, "tasks [NAME] [--json | --names]              the evaluation tasks by group; NAME: that task's\n"
                            "                                              settings (type, default, range, help); --json:\n"
                            "                                              the task schema (one task's with NAME);\n"
                            "                                              --names: the names, one per line"}},
      {"devices", {cmd_devices, "devices [--self-test]                        backends and CUDA devices this build can use;\n"
                            "                                              --self-test: a kernel check on each device"}},
  };
  return c;
}

constexpr const char* kSummary = "evaluate language-model checkpoints";
constexpr const char* kNotes =
    "Exit codes: 0 ok, 2 bad input (the message says what to fix), 1 an output that could not be written\n"
    "(the message names it) or an internal error. Weights holding NaN or infinity are refused unless\n"
    "--allow-nonfinite is given.";

void usage(std::FILE* to) {
  std::fprintf(to, "lmscope-cli %s: %s\n\nusage: lmscope-cli COMMAND [options]\n\n", lmscope::version(), kSummary);
  for (const auto& [name, c] : commands()) std::fprintf(to, "  %s\n", c.usage);
  std::fprintf(to, "\n%s\n", kNotes);
}

// The manual page from the same table (hidden: the build runs it, cmake/ManPage.cmake).
void man_page(std::FILE* to) {
  std::vector<lmscope::cli::CommandHelp> table;
  for (const auto& [name, c] : commands()) table.push_back({name, c.usage});
  lmscope::cli::write_man_page(to, table, kSummary, kNotes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || (name == "help" && argc == 2)) {
    usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("lmscope-cli %s\n", lmscope::version());
    return 0;
  }
  if (name == "--man") {
    man_page(stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  // `lmscope-cli help COMMAND` and `lmscope-cli COMMAND --help`: that command's line of the usage table.
  const bool help_of = name == "help" && argc >= 3;
  auto it = commands().find(help_of ? std::string(argv[2]) : name);
  if (it == commands().end()) {
    std::fprintf(stderr, "lmscope-cli: unknown command '%s'\n\n", help_of ? argv[2] : name.c_str());
    usage(stderr);
    return 2;
  }
  if (help_of || (argc >= 3 && (std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h"))) {
    std::printf("usage: lmscope-cli %s\n\n%s\n", it->second.usage, kNotes);
    return 0;
  }
  // A reader that goes away (SIGPIPE) or a file-size limit (SIGXFSZ) would kill the process mid-write; ignored, the
  // write fails instead and is reported like any failed output.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
  int code = 0;
  try {
    code = it->second.run(lmscope::cli::Argv(argv + 2, argv + argc));
  } catch (const lmscope::BadInput& e) {
    std::fprintf(stderr, "lmscope-cli %s: %s\n", name.c_str(), e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // Always about a path from outside (no permission, a symlink loop, a vanished file).
    std::fprintf(stderr, "lmscope-cli %s: %s\n", name.c_str(), e.what());
    return 2;
  } catch (const lmscope::OutputError& e) {
    std::fprintf(stderr, "lmscope-cli %s: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lmscope-cli %s: out of memory\n", name.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmscope-cli %s: internal error: %s\n", name.c_str(), e.what());
    return 1;
  }
  // What went to standard output must have arrived (a full disk, /dev/full, a closed pipe).
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "lmscope-cli %s: cannot write standard output: %s\n", name.c_str(), std::strerror(errno));
    return 1;
  }
  return code;
}
