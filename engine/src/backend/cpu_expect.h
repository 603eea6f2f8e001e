// Shape and type checks shared by the CPU backend's files. A failed check is a bug in the calling model code, not
// bad input: InternalError naming the op.
#pragma once

#include <cstdint>
#include <string>

#include "backend/tensor.h"
#include "lmscope/error.h"

namespace lmscope::cpu {

inline void expect(bool ok, const char* op, const std::string& what) {
  if (!ok) throw InternalError(std::string("cpu ") + op + ": " + what);
}

// Whether a loop of about `work` multiply-adds is worth an OpenMP team: below this, waking and joining threads
// costs more than the loop (and under CPU contention a spinning team makes tiny models many times slower).
inline bool worth_threads(std::int64_t work) { return work > (1 << 18); }

inline void expect_f32(const Tensor& t, const char* op) { expect(t.dtype == DType::F32, op, "expects float32 tensors"); }

}  // namespace lmscope::cpu
