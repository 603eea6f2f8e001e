#include "models/rope_tables.h"

#include <algorithm>
#include <cmath>

namespace lmscope {
namespace {

// Rows [first, first + count) of the cos and sin tables, on the host.
void compute_rows(const RopeFrequencies& freq, std::int64_t first, std::int64_t count, std::vector<float>& c, std::vector<float>& s) {
  const auto half = static_cast<std::int64_t>(freq.inv_freq.size());
  c.assign(static_cast<std::size_t>(count * half), 0.0f);
  s.assign(c.size(), 0.0f);
  for (std::int64_t r = 0; r < count; ++r)
    for (std::int64_t i = 0; i < half; ++i) {
      const double a = static_cast<double>(first + r) * freq.inv_freq[static_cast<std::size_t>(i)];
      c[static_cast<std::size_t>(r * half + i)] = static_cast<float>(std::cos(a) * freq.attention_factor);
      s[static_cast<std::size_t>(r * half + i)] = static_cast<float>(std::sin(a) * freq.attention_factor);
    }
}

}  // namespace

RopeTables make_rope_tables(Backend& backend, const RopeFrequencies& freq, std::int64_t positions) {
  RopeTables t;
  t.freq = freq;
  t.positions = positions;
  const auto half = static_cast<std::int64_t>(freq.inv_freq.size());
  std::vector<float> c, s;
  compute_rows(freq, 0, positions, c, s);
  t.cos = backend.alloc(DType::F32, {positions, half});
  t.sin = backend.alloc(DType::F32, {positions, half});
  backend.upload(c, t.cos);
  backend.upload(s, t.sin);
  return t;
}

std::shared_ptr<const RopeTables> RopeTableCache::get(Backend& backend, const RopeFrequencies& freq, std::int64_t positions) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<const RopeTables> old;
  if (auto it = std::find_if(kept_.begin(), kept_.end(), [&](const auto& t) { return t->freq == freq; }); it != kept_.end()) {
    old = *it;
    kept_.erase(it);
  }
  if (old && old->positions >= positions) {
    kept_.push_back(old);
    return old;
  }
  std::int64_t n = std::max<std::int64_t>(old ? old->positions : 0, 256);
  while (n < positions) n *= 2;
  const auto half = static_cast<std::int64_t>(freq.inv_freq.size());
  auto t = std::make_shared<RopeTables>();
  t->freq = freq;
  t->positions = n;
  t->cos = backend.alloc(DType::F32, {n, half});
  t->sin = backend.alloc(DType::F32, {n, half});
  if (half > 0) {
    const std::int64_t first = old ? old->positions : 0;
    if (old) {
      backend.copy_rows(old->cos, t->cos, 0);
      backend.copy_rows(old->sin, t->sin, 0);
    }
    std::vector<float> c, s;
    compute_rows(freq, first, n - first, c, s);
    Tensor cos_rows = t->cos.slice_rows(first, n - first), sin_rows = t->sin.slice_rows(first, n - first);
    backend.upload(c, cos_rows);
    backend.upload(s, sin_rows);
  }
  kept_.push_back(t);
  if (kept_.size() > kKept) kept_.erase(kept_.begin());
  return t;
}

}  // namespace lmscope
