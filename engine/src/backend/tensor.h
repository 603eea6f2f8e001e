// A tensor on a backend: row-major, contiguous, with shared ownership of its storage. The engine's model code
// only moves these between backend ops; what `data` points to (host or device memory) is the backend's business.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lmscope/dtype.h"

namespace lmscope {

struct Tensor {
  std::shared_ptr<void> storage;  // keeps the memory alive (an allocation, or a mapped file for aliased weights)
  void* data = nullptr;           // first element
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;

  std::int64_t numel() const;
  std::int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  std::int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype); }
  // Rows [begin, begin + count) of the tensor seen as [rows, cols]: a view sharing the storage.
  Tensor slice_rows(std::int64_t begin, std::int64_t count) const;
  // The same memory with another shape of equal size.
  Tensor reshaped(std::vector<std::int64_t> new_shape) const;
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

}  // namespace lmscope
