// The files `lmscope-cli slurm` writes: an sbatch array whose task i runs shard i/N of a spec into its own store, a
// merge job that combines the stores and writes the results JSON, and submit.sh, which submits the array and then
// the merge job with --dependency=afterok on it.
#pragma once

#include <string>

namespace lmscope::cli {

struct SlurmPlan {
  std::string cli;        // absolute path of lmscope-cli on the cluster's shared file system
  std::string spec;       // absolute path of the run spec
  std::string out_dir;    // absolute; holds the scripts, stores/, logs/, merged.sqlite, results.json
  std::string job_name;   // letters, digits, '-', '_', '.'
  int tasks = 1;          // array tasks = shards
  int gpus_per_task = 1;  // 0: CPU tasks; > 1: each task spreads its shard with --gpus
  std::string partition;  // "" = the cluster's default
  std::string time;       // "" = the partition's default
};

// POSIX shell single quoting: any text, spaces and quotes included, as one word.
std::string shell_quote(const std::string& text);

std::string slurm_array_script(const SlurmPlan& plan);
std::string slurm_merge_script(const SlurmPlan& plan);
std::string slurm_submit_script(const SlurmPlan& plan);

}  // namespace lmscope::cli
