#include "backend/tensor.h"

#include <string>

#include "lmscope/error.h"

namespace lmscope {

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Tensor Tensor::slice_rows(std::int64_t begin, std::int64_t count) const {
  if (begin < 0 || count < 0 || begin + count > rows())
    throw InternalError("slice_rows: rows [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                        ") outside a tensor of " + std::to_string(rows()) + " rows");
  Tensor t = *this;
  t.data = static_cast<unsigned char*>(data) + static_cast<std::size_t>(begin * cols()) * dtype_size(dtype);
  t.shape = {count, cols()};
  return t;
}

Tensor Tensor::reshaped(std::vector<std::int64_t> new_shape) const {
  Tensor t = *this;
  t.shape = std::move(new_shape);
  if (t.numel() != numel()) throw InternalError("reshaped: element count changes");
  return t;
}

}  // namespace lmscope
