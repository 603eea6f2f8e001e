// cos/sin tables for RoPE on a backend, built from the pure frequency function (rope.h).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

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

// The tables all sequences of a model read, shared: built once per frequency set and grown (to a power of two of
// at least 256 positions; the rows already there copied on the device, only the new rows computed) as sequences
// get longer. Built per sequence they cost ~25 ms of host time per 32K positions, paid again by every sequence of a
// decoding batch when it crossed a power of two.
class RopeTableCache {
 public:
  // Tables for `freq` with at least `positions` rows. What is returned stays valid while held, also after the
  // cache grows or drops that frequency set.
  std::shared_ptr<const RopeTables> get(Backend& backend, const RopeFrequencies& freq, std::int64_t positions);

 private:
  static constexpr std::size_t kKept = 8;  // frequency sets kept (dynamic NTK makes one per length past the original)
  std::mutex mutex_;
  std::vector<std::shared_ptr<const RopeTables>> kept_;  // most recently used last
};

}  // namespace lmscope
