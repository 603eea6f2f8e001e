// Helpers the CUDA backend's files share: shape checks, the kernels' element type of a tensor, and launching a
// kernel wrapper so its errors become the engine's InternalError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "backend/backend.h"
#include "backend/tensor.h"
#include "lmscope/error.h"
#include "lmscope_kernels/op_profile.h"
#include "lmscope_kernels/ops.h"

namespace lmscope::cuda_backend_detail {

inline void expect(bool ok, const char* op, const char* what) {
  if (!ok) throw InternalError(std::string("cuda ") + op + ": " + what);
}

inline cuda::Elem elem(DType t, const char* op) {
  if (t == DType::F32) return cuda::Elem::F32;
  if (t == DType::BF16) return cuda::Elem::BF16;
  throw InternalError(std::string("cuda ") + op + ": tensor dtype " + std::string(dtype_name(t)) + " (expected F32 or BF16)");
}

// The kernels' code of an activation (ops.h's activate()).
inline int activation_code(Activation f) {
  switch (f) {
    case Activation::Silu: return 0;
    case Activation::Sigmoid: return 1;
    case Activation::Relu: return 2;
    case Activation::EluPlusOne: return 3;
    case Activation::Softplus: return 4;
    case Activation::LogSigmoid: return 5;
    case Activation::GeluTanh: return 6;
    case Activation::Gelu: return 7;
    case Activation::ReluSquared: return 8;
  }
  throw InternalError("cuda: unknown activation");
}

inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Runs a kernel launcher, turning its std::runtime_error into the engine's InternalError (and timing it under
// LMSCOPE_CUDA_PROFILE).
template <typename F>
void launch(const char* what, F&& f) {
  cuda::OpTimer timer(what);
  try {
    f();
  } catch (const std::runtime_error& e) {
    throw InternalError(std::string(what) + ": " + e.what());
  }
}

}  // namespace lmscope::cuda_backend_detail
