// Where a CUDA forward pass spends its time, per op, for finding what to optimise (the GPU machine has no Nsight
// Systems). Off unless LMSCOPE_CUDA_PROFILE is set: then every timed scope is bracketed by device
// synchronisations and timed on the host, which serialises the GPU (times grow by the launch latency; the shares
// are what matter). A scope's own ("self") time excludes the scopes timed inside it, so the backend's op and the
// kernels it launches appear as separate rows. The table goes to stderr when the process exits.
#pragma once

#include <string>

namespace lmscope::cuda {

class OpTimer {
 public:
  // The name is copied only when profiling is on: launches call this on every op.
  explicit OpTimer(const char* op);
  explicit OpTimer(std::string op);
  static bool enabled();  // for building a detailed name only when it will be used
  // Forgets what was timed so far (the benchmark calls it after its warm-up passes, through the backend's
  // reset_peak_memory, so one-time costs such as GEMM tuning and lazy module loading stay out of the table).
  static void reset_totals();
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  void start();
  std::string op_;
  OpTimer* parent_ = nullptr;
  double start_ = 0, children_ = 0;
  bool on_ = false;
};

}  // namespace lmscope::cuda
