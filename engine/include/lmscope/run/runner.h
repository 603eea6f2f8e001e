// Executes a RunSpec: expands it into task runs (model × setting × task) and their work units, skips units the
// results store already holds, computes the rest (or this shard's slice of them), commits each as it finishes,
// aggregates complete task runs, and reports everything as JSON events (the worker protocol's, docs/worker.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "lmscope/run/results_store.h"
#include "lmscope/run/run_spec.h"

namespace lmscope::run {

struct RunOptions {
  std::string store_path;  // the SQLite results store (created when missing)
  int shard_index = 0;     // run units whose ordinal % shard_count == shard_index
  int shard_count = 1;
  const std::atomic<bool>* cancel = nullptr;
  // Events: start, progress, unit, partial, result, log, done (see docs/worker.md). Called on the running thread.
  std::function<void(const nlohmann::json&)> on_event;
  double progress_interval_s = 0.5;  // at most this often a "progress" event
  // Load checkpoints whose weights hold NaN or infinity (LoadOptions::allow_nonfinite); their units then fail as
  // non-finite instead of the load.
  bool allow_nonfinite = false;
  // false: plan and aggregate what the store holds, compute nothing (the `run --gpus` coordinator: workers compute).
  bool compute = true;
  // Set in a worker of a multi-process run (`run --gpus`): asked just before a unit is computed; false means another
  // worker holds it or has stored it, and it is skipped. A model is loaded only once one of its units is claimed.
  // Such a worker aggregates nothing: the coordinator does, from the store.
  std::function<bool(const std::string& run_key, std::int64_t unit)> claim;
  // {k, N}: start at model × setting group floor(G·k/N) of G, wrapping round, so the workers of one run begin on
  // different models and each loads few of them.
  std::pair<int, int> start_share{0, 1};
};

struct TaskRunInfo {
  std::string run_key, model, setting, task;
  std::string alias;  // the task instance's name in the results (the entry's "alias", else the task's name)
  std::int64_t unit_count = 0;
  bool complete = false;
};

struct RunOutcome {
  // lm-eval shaped results (see docs/runspec.md): one object for one model × setting, else {"runs": [...]}.
  nlohmann::json results;
  bool complete = false;  // every task run aggregated (false after cancel or for a shard)
  bool cancelled = false;
  std::int64_t units_total = 0, units_computed = 0, units_reused = 0;
  // Where the wall time went: reading data and tokenising (building the tasks), loading weights, computing units.
  double seconds_preparing = 0, seconds_loading = 0, seconds_computing = 0;
  std::string spec_hash;
  std::vector<TaskRunInfo> task_runs;
};

RunOutcome execute_run(const RunSpec& spec, const RunOptions& options);

// What a run would be, without running it: every model's tokenizer and every task are built (data read, tokenised,
// checked against the lengths asked for), so whatever execute_run would refuse as bad input is refused here, before
// a launch. Touches no store and loads no weights.
struct RunCheck {
  std::int64_t task_runs = 0, units = 0;
};
RunCheck check_run(const RunSpec& spec);

// "i/N" → {i, N}; BadInput unless 0 <= i < N.
std::pair<int, int> parse_shard(const std::string& text);

// A fingerprint of a checkpoint folder's weights, config and tokenizer files: FNV-1a over file names, sizes and
// contents (files above 64 MiB contribute their first and last MiB and 64 evenly spaced 4 KiB blocks).
std::string checkpoint_fingerprint(const std::filesystem::path& dir);

}  // namespace lmscope::run
