// Scoring latency at given batch sizes: the same windows scored once untimed (the first pass of a shape pays for
// allocations and, on CUDA, GEMM plan choice) and once timed per batch size, with the host and device memory peaks
// of the timed pass. Batches go through score_windows, so a backend that runs several sequences in one pass does.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "eval/scoring.h"

namespace lmscope::eval {

struct LatencyMeasurement {
  std::int64_t batch = 1;
  double seconds = 0;                  // the timed pass over every window
  std::int64_t tokens_scored = 0;      // targets scored in that pass
  std::int64_t peak_host_bytes = 0;    // resident high-water mark during the timed pass (eval/host_memory.h)
  bool host_peak_resets = false;       // false: the mark is the process's lifetime maximum
  std::int64_t peak_device_bytes = -1;  // Model::peak_memory_bytes; -1 where the backend does not track it
};

std::vector<LatencyMeasurement> measure_scoring_latency(const Model& model, std::span<const WindowRequest> windows,
                                                        std::span<const std::int64_t> batches, const TaskEnv& env);

}  // namespace lmscope::eval
