#include "eval/scoring_latency.h"

#include <chrono>

#include "eval/host_memory.h"
#include "lmscope/error.h"

namespace lmscope::eval {

std::vector<LatencyMeasurement> measure_scoring_latency(const Model& model, std::span<const WindowRequest> windows,
                                                        std::span<const std::int64_t> batches, const TaskEnv& env) {
  std::vector<LatencyMeasurement> out;
  for (const auto b : batches) {
    if (b < 1) throw BadInput("latency: batch sizes must be >= 1");
    TaskEnv at = env;
    at.batch_size = b;
    score_windows(model, windows, at);  // warm-up
    LatencyMeasurement m;
    m.batch = b;
    m.host_peak_resets = reset_host_peak();
    model.reset_peak_memory();
    const auto t0 = std::chrono::steady_clock::now();
    const auto scores = score_windows(model, windows, at);
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.peak_host_bytes = host_peak_bytes();
    m.peak_device_bytes = model.peak_memory_bytes();
    for (const auto& s : scores) m.tokens_scored += s.scored;
    out.push_back(m);
  }
  return out;
}

}  // namespace lmscope::eval
