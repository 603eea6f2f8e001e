#include "lmscope/eval/rolling_windows.h"

#include <algorithm>

#include "lmscope/error.h"

namespace lmscope::eval {

std::vector<RollingWindow> rolling_windows(std::span<const std::int32_t> t, std::int64_t L, std::int32_t prefix) {
  if (L < 1) throw BadInput("rolling windows: max length must be >= 1, got " + std::to_string(L));
  std::vector<RollingWindow> out;
  const auto n = static_cast<std::int64_t>(t.size());
  if (n == 0) return out;
  const std::int64_t first = std::min(L, n);
  RollingWindow w;
  w.input.push_back(prefix);
  w.input.insert(w.input.end(), t.begin(), t.begin() + (first - 1));
  w.targets.assign(t.begin(), t.begin() + first);
  out.push_back(std::move(w));
  std::int64_t predicted = first;
  while (predicted < n) {
    const std::int64_t k = std::min(n - predicted, L);
    const std::int64_t end = predicted + k;
    const std::int64_t start = std::max<std::int64_t>(0, end - L - 1);
    RollingWindow next;
    next.input.assign(t.begin() + start, t.begin() + (end - 1));
    next.targets.assign(t.begin() + (end - k), t.begin() + end);
    out.push_back(std::move(next));
    predicted = end;
  }
  return out;
}

std::vector<std::int32_t> position_targets(const RollingWindow& w) {
  std::vector<std::int32_t> p(w.input.size(), -1);
  const std::size_t offset = w.input.size() - w.targets.size();
  std::copy(w.targets.begin(), w.targets.end(), p.begin() + static_cast<std::ptrdiff_t>(offset));
  return p;
}

}  // namespace lmscope::eval
