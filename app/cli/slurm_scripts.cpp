#include "cli/slurm_scripts.h"

namespace lmscope::cli {
namespace {

// Directives carry no paths: sbatch's own reading of quotes in #SBATCH lines is not something to rely on, so paths
// (which may hold spaces) appear only in shell code, quoted, and submit.sh gives --output on sbatch's command line.
std::string directives(const SlurmPlan& p, const std::string& name) {
  std::string s = "#SBATCH --job-name=" + name + "\n#SBATCH --ntasks=1\n";
  if (!p.partition.empty()) s += "#SBATCH --partition=" + p.partition + "\n";
  if (!p.time.empty()) s += "#SBATCH --time=" + p.time + "\n";
  return s;
}

std::string paths(const SlurmPlan& p) {
  return "cli=" + shell_quote(p.cli) + "\nspec=" + shell_quote(p.spec) + "\nout=" + shell_quote(p.out_dir) + "\n";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (const char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurm_array_script(const SlurmPlan& p) {
  const auto n = std::to_string(p.tasks);
  std::string s = "#!/bin/bash\n# Written by lmscope-cli slurm. Array task i computes shard i/" + n +
                  " of the spec into its own store; merge.sbatch combines them. Submit with submit.sh.\n";
  s += directives(p, p.job_name);
  s += "#SBATCH --array=0-" + std::to_string(p.tasks - 1) + "\n";
  if (p.gpus_per_task > 0) s += "#SBATCH --gres=gpu:" + std::to_string(p.gpus_per_task) + "\n";
  s += "set -euo pipefail\n" + paths(p);
  s += "mkdir -p \"$out/stores\"\n";
  // One GPU: the task's process uses the GPU Slurm gave it (CUDA_VISIBLE_DEVICES). Several: one worker each.
  s += "exec \"$cli\" run \"$spec\" --shard \"${SLURM_ARRAY_TASK_ID}/" + n +
       "\" --store \"$out/stores/shard-${SLURM_ARRAY_TASK_ID}.sqlite\" --quiet";
  if (p.gpus_per_task > 1) s += " --gpus " + std::to_string(p.gpus_per_task);
  return s + "\n";
}

std::string slurm_merge_script(const SlurmPlan& p) {
  std::string s = "#!/bin/bash\n# Written by lmscope-cli slurm. Runs after every array task succeeded: merges the "
                  "shards' stores, then writes the results (every unit is stored, so nothing is computed).\n";
  s += directives(p, p.job_name + "-merge");
  s += "set -euo pipefail\n" + paths(p);
  s += "\"$cli\" merge \"$out/merged.sqlite\"";
  for (int i = 0; i < p.tasks; ++i) s += " \"$out/stores/shard-" + std::to_string(i) + ".sqlite\"";
  s += "\n\"$cli\" run \"$spec\" --store \"$out/merged.sqlite\" --out \"$out/results.json\" --quiet\n";
  return s;
}

std::string slurm_submit_script(const SlurmPlan& p) {
  std::string s = "#!/bin/bash\n# Written by lmscope-cli slurm: submits the shard array, then the merge job to start "
                  "once every array task has succeeded.\nset -euo pipefail\nout=" + shell_quote(p.out_dir) + "\n";
  s += "mkdir -p \"$out/logs\"\n";
  // --parsable prints "jobid" or "jobid;cluster".
  s += "array_job=$(sbatch --parsable --output=\"$out/logs/shard-%a.log\" \"$out/array.sbatch\")\n";
  s += "array_job=${array_job%%;*}\n";
  s += "merge_job=$(sbatch --parsable --dependency=afterok:\"$array_job\" --output=\"$out/logs/merge.log\" "
       "\"$out/merge.sbatch\")\n";
  s += "merge_job=${merge_job%%;*}\n";
  s += "echo \"array job $array_job (" + std::to_string(p.tasks) + " tasks), merge job $merge_job; results: $out/results.json\"\n";
  return s;
}

}  // namespace lmscope::cli
