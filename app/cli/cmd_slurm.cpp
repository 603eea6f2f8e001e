// lmscope-cli slurm: a run spec as a Slurm array of shards plus a dependent merge job (slurm_scripts.h); --submit
// submits them through submit.sh.
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <regex>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/self_executable.h"
#include "cli/slurm_scripts.h"
#include "lmscope/error.h"
#include "lmscope/output_file.h"
#include "lmscope/run/run_spec.h"

extern char** environ;

namespace lmscope::cli {
namespace {

namespace fs = std::filesystem;

// The spec's name as a job name: what Slurm and a shell take without quoting.
std::string job_name_for(const run::RunSpec& spec, const fs::path& file) {
  std::string base = spec.name.empty() ? file.stem().string() : spec.name, name = "lmscope-";
  for (const char c : base)
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return name.substr(0, 64);
}

void write_script(const fs::path& path, const std::string& text) {
  write_output_file(path.string(), text, path.filename().string());
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
}

}  // namespace

int cmd_slurm(const Argv& argv) {
  const std::set<std::string> value_options{"tasks", "gpus-per-task", "partition", "time", "out"};
  if (argv.empty() || argv.front().rfind("--", 0) == 0) {
    Args check("slurm", argv, value_options, {"submit"});  // an unknown option is named first
    throw BadInput("slurm: give a run spec file first: lmscope-cli slurm SPEC.json [options]");
  }
  const fs::path spec_file = fs::absolute(argv.front());
  Args a("slurm", Argv(argv.begin() + 1, argv.end()), value_options, {"submit"});
  const auto spec = run::load_run_spec(spec_file);  // refused here, not on the cluster an hour later
  SlurmPlan plan;
  plan.cli = self_executable();
  plan.spec = spec_file.lexically_normal().string();
  plan.out_dir = fs::absolute(a.get("out", "lmscope-slurm")).lexically_normal().string();
  while (plan.out_dir.size() > 1 && plan.out_dir.back() == '/') plan.out_dir.pop_back();
  plan.job_name = job_name_for(spec, spec_file);
  plan.tasks = static_cast<int>(a.integer_in("tasks", 4, 1, 10000));
  plan.gpus_per_task = static_cast<int>(a.integer_in("gpus-per-task", spec.backend == "cuda" ? 1 : 0, 0, 64));
  if (plan.gpus_per_task > 0 && spec.backend != "cuda")
    throw BadInput("slurm: --gpus-per-task " + std::to_string(plan.gpus_per_task) + " but the spec's backend is " +
                   spec.backend + "; set \"backend\": \"cuda\" in the spec, or --gpus-per-task 0 for CPU tasks");
  if (plan.gpus_per_task == 0 && spec.backend == "cuda")
    throw BadInput("slurm: --gpus-per-task 0 asks for CPU tasks, but the spec's backend is cuda");
  plan.partition = a.get("partition", "");
  if (!plan.partition.empty() && !std::regex_match(plan.partition, std::regex("[A-Za-z0-9_.,-]+")))
    throw BadInput("slurm: --partition '" + plan.partition + "': expected a partition name (letters, digits, - _ . ,)");
  plan.time = a.get("time", "");
  if (!plan.time.empty() && !std::regex_match(plan.time, std::regex("[0-9]+(-[0-9]+)?(:[0-9]+){0,2}|UNLIMITED|INFINITE")))
    throw BadInput("slurm: --time '" + plan.time + "': expected a Slurm time limit: MINUTES, H:MM:SS, D-HH, D-HH:MM:SS");

  const fs::path out = plan.out_dir;
  std::error_code ec;
  fs::create_directories(out / "stores", ec);
  if (!ec) fs::create_directories(out / "logs", ec);
  if (ec) throw BadInput("slurm: --out " + out.string() + ": cannot create the folder: " + ec.message());
  write_script(out / "array.sbatch", slurm_array_script(plan));
  write_script(out / "merge.sbatch", slurm_merge_script(plan));
  write_script(out / "submit.sh", slurm_submit_script(plan));
  std::printf("wrote %s/{array.sbatch,merge.sbatch,submit.sh}: %d array task(s), %d GPU(s) each; results go to %s\n",
              out.c_str(), plan.tasks, plan.gpus_per_task, (out / "results.json").c_str());
  if (!a.flag("submit")) {
    std::printf("submit with: %s\n", shell_quote((out / "submit.sh").string()).c_str());
    return 0;
  }
  std::fflush(stdout);
  const std::string script = (out / "submit.sh").string();
  char* args[] = {const_cast<char*>("bash"), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = -1;
  if (posix_spawnp(&pid, "bash", nullptr, nullptr, args, environ) != 0)
    throw BadInput("slurm --submit: cannot run bash to submit " + script);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw BadInput("slurm --submit: submitting failed (sbatch's message is above; is this a Slurm login node?); the "
                   "scripts are in " + out.string());
  return 0;
}

}  // namespace lmscope::cli
