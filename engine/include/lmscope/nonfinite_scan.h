// Finding NaN and infinity in stored weights before a model runs on them: one pass over the mapped bytes, per
// element only an exponent test (all exponent bits set), in blocks the compiler vectorises.
#pragma once

#include <cstddef>
#include <optional>

#include "lmscope/dtype.h"

namespace lmscope {

// Index of the first NaN or infinite element of n elements of a float weight type at data (any alignment);
// nullopt when all are finite or the type is not F32/F16/BF16.
std::optional<std::size_t> first_nonfinite(DType type, const void* data, std::size_t n);

}  // namespace lmscope
