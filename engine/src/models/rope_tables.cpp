#include "models/rope_tables.h"

#include <cmath>

namespace lmscope {

RopeTables make_rope_tables(Backend& backend, const RopeFrequencies& freq, std::int64_t positions) {
  RopeTables t;
  t.freq = freq;
  t.positions = positions;
  const auto half = static_cast<std::int64_t>(freq.inv_freq.size());
  std::vector<float> c(static_cast<std::size_t>(positions * half)), s(c.size());
  for (std::int64_t p = 0; p < positions; ++p)
    for (std::int64_t i = 0; i < half; ++i) {
      const double a = static_cast<double>(p) * freq.inv_freq[static_cast<std::size_t>(i)];
      c[static_cast<std::size_t>(p * half + i)] = static_cast<float>(std::cos(a) * freq.attention_factor);
      s[static_cast<std::size_t>(p * half + i)] = static_cast<float>(std::sin(a) * freq.attention_factor);
    }
  t.cos = backend.alloc(DType::F32, {positions, half});
  t.sin = backend.alloc(DType::F32, {positions, half});
  backend.upload(c, t.cos);
  backend.upload(s, t.sin);
  return t;
}

}  // namespace lmscope
