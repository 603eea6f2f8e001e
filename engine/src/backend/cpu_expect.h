// Shape and type checks shared by the CPU backend's files. A failed check is a bug in the calling model code, not
// bad input: InternalError naming the op.
#pragma once

#include <string>

#include "backend/tensor.h"
#include "lmscope/error.h"

namespace lmscope::cpu {

inline void expect(bool ok, const char* op, const std::string& what) {
  if (!ok) throw InternalError(std::string("cpu ") + op + ": " + what);
}

inline void expect_f32(const Tensor& t, const char* op) { expect(t.dtype == DType::F32, op, "expects float32 tensors"); }

}  // namespace lmscope::cpu
