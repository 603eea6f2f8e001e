// `lmscope-cli run --gpus`: one worker process per GPU over one results store, the units spread as workers become
// free, one progress line, and the summary and results of a single-process run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/run_progress.h"
#include "lmscope/run/runner.h"

namespace lmscope::cli {

struct GpuRunRequest {
  const run::RunSpec* spec = nullptr;
  run::RunOptions options;                // store, shard, cancel flag, allow_nonfinite (events go to `printer`)
  std::vector<std::string> worker_args;   // the `run ...` arguments every worker gets (spec, store, shard, ...)
  std::vector<std::string> devices;       // one worker per entry: its CUDA_VISIBLE_DEVICES
  ProgressPrinter* printer = nullptr;
};

struct GpuRunOutcome {
  run::RunOutcome outcome;  // aggregated from the store after the workers stopped
  std::string failure;      // non-empty when workers failed and units are left (finished ones are kept)
};

GpuRunOutcome run_on_gpus(const GpuRunRequest& request);

// RunOptions::claim for a worker of a shared run (a --gpus child, or a GUI worker given `claims`): each unit is
// claimed in `store` for `session` under this process's pid, the name by which a dead worker's claims are released.
std::function<bool(const std::string& run_key, std::int64_t unit)> unit_claimer(const std::string& store,
                                                                                const std::string& session);

// What makes a `run` process a worker of a --gpus run: set in the workers' environment only (an interface between
// this program and itself, so not an option a user would see): the session whose claims it makes, and its start
// share k/N (RunOptions::start_share).
inline constexpr const char* kClaimSessionVariable = "LMSCOPE_GPU_RUN_SESSION";
inline constexpr const char* kClaimStartVariable = "LMSCOPE_GPU_RUN_START";

}  // namespace lmscope::cli
