// The tensors of a family, declared once. A family writes one function that assembles its model from a
// WeightSet; the same function runs in two modes:
// - collecting (no backend): every tensor asked for is recorded with its name, shape and stored type, and an
//   empty placeholder comes back. The record is what a checkpoint is validated against and what the parameter
//   count sums, before any weight is read.
// - loading: the checkpoint's tensors come back on the backend (already validated against that same record).
// So a tensor's name and shape are written in one place, and what is checked is what is loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "lmscope/checkpoint.h"

namespace lmscope {

class WeightSet {
 public:
  WeightSet() = default;  // collecting
  WeightSet(Backend& backend, const Checkpoint& checkpoint) : backend_(&backend), checkpoint_(&checkpoint) {}

  bool loading() const { return backend_ != nullptr; }
  // The backend weights go to; InternalError when collecting (assembly code must ask loading() first).
  Backend& backend() const;

  // A float weight (stored as F32, F16 or BF16) on the backend; collecting: an empty tensor of that shape.
  // ternary: quantised to {-1, 0, +1}·scale when the model runs (recorded for the checkpoint summary).
  Tensor weight(const std::string& name, std::vector<std::int64_t> shape, bool ternary = false);
  // A tensor stored in a given non-float type (packed weights), as stored; collecting: nullptr.
  const TensorView* stored(const std::string& name, std::vector<std::int64_t> shape, DType dtype, bool ternary = false);
  // A float weight read to the host as float32 (small tensors a family transforms at load, e.g. scales);
  // collecting: empty. counted: whether it counts as parameters (a packed matrix's scale does not).
  std::vector<float> host_f32(const std::string& name, std::vector<std::int64_t> shape, bool counted = true);

  const std::vector<ExpectedTensor>& declared() const { return declared_; }

 private:
  ExpectedTensor& declare(const std::string& name, const std::vector<std::int64_t>& shape, std::optional<DType> dtype,
                          bool ternary);
  Backend* backend_ = nullptr;
  const Checkpoint* checkpoint_ = nullptr;
  std::vector<ExpectedTensor> declared_;
};

}  // namespace lmscope
