#include "lmscope_kernels/op_profile.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace lmscope::cuda {
namespace {

struct Totals {
  double seconds = 0;
  long calls = 0;
};

class Profile {
 public:
  static Profile& get() {
    static Profile p;
    return p;
  }
  bool on() const { return on_; }
  void add(const std::string& op, double s) {
    std::lock_guard<std::mutex> lock(m_);
    auto& t = totals_[op];
    t.seconds += s;
    ++t.calls;
  }
  void reset() {
    std::lock_guard<std::mutex> lock(m_);
    totals_.clear();
  }
  ~Profile() {
    if (!on_ || totals_.empty()) return;
    std::vector<std::pair<std::string, Totals>> rows(totals_.begin(), totals_.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double all = 0;
    for (const auto& r : rows) all += r.second.seconds;
    std::fprintf(stderr, "\nCUDA op profile (LMSCOPE_CUDA_PROFILE; self times after any warm-up, every op synchronised):\n");
    std::fprintf(stderr, "%-40s %10s %8s %7s %10s\n", "op", "ms", "calls", "share", "us/call");
    for (const auto& [name, t] : rows)
      std::fprintf(stderr, "%-40s %10.1f %8ld %6.1f%% %10.1f\n", name.c_str(), t.seconds * 1e3, t.calls,
                   100.0 * t.seconds / all, 1e6 * t.seconds / static_cast<double>(t.calls));
    std::fprintf(stderr, "%-40s %10.1f\n", "total", all * 1e3);
  }

 private:
  Profile() : on_(std::getenv("LMSCOPE_CUDA_PROFILE") != nullptr) {}
  bool on_;
  std::mutex m_;
  std::map<std::string, Totals> totals_;
};

thread_local OpTimer* current = nullptr;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool OpTimer::enabled() { return Profile::get().on(); }

void OpTimer::reset_totals() {
  if (Profile::get().on()) Profile::get().reset();
}

OpTimer::OpTimer(const char* op) {
  if (!Profile::get().on()) return;
  on_ = true;
  op_ = op;
  start();
}

OpTimer::OpTimer(std::string op) {
  if (!Profile::get().on()) return;
  on_ = true;
  op_ = std::move(op);
  start();
}

void OpTimer::start() {
  cudaDeviceSynchronize();
  parent_ = current;
  current = this;
  start_ = now();
}

OpTimer::~OpTimer() {
  if (!on_) return;
  cudaDeviceSynchronize();
  const double total = now() - start_;
  current = parent_;
  if (parent_) parent_->children_ += total;
  Profile::get().add(op_, total - children_);
}

}  // namespace lmscope::cuda
