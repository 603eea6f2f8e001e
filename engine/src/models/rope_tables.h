// cos/sin tables for RoPE on a backend, built from the pure frequency function (rope.h).
#pragma once

#include "backend/backend.h"
#include "lmscope/rope.h"

namespace lmscope {

struct RopeTables {
  RopeFrequencies freq;
  std::int64_t positions = 0;
  Tensor cos, sin;  // [positions, rotary_dim / 2], attention factor folded in
};

// Angles are computed in double precision and rounded once to float32.
RopeTables make_rope_tables(Backend& backend, const RopeFrequencies& freq, std::int64_t positions);

}  // namespace lmscope
