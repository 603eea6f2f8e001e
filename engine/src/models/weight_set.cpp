#include "models/weight_set.h"

#include "lmscope/error.h"

namespace lmscope {

Backend& WeightSet::backend() const {
  if (!backend_) throw InternalError("WeightSet: the backend was asked for while collecting tensor declarations");
  return *backend_;
}

ExpectedTensor& WeightSet::declare(const std::string& name, const std::vector<std::int64_t>& shape, std::optional<DType> dtype,
                                   bool ternary) {
  ExpectedTensor e;
  e.name = name;
  e.shape = shape;
  e.ternary = ternary;
  e.dtype = dtype;
  declared_.push_back(std::move(e));
  return declared_.back();
}

Tensor WeightSet::weight(const std::string& name, std::vector<std::int64_t> shape, bool ternary) {
  declare(name, shape, std::nullopt, ternary);
  if (!loading()) {
    Tensor placeholder;
    placeholder.shape = std::move(shape);
    return placeholder;
  }
  return backend_->weight(checkpoint_->tensor(name));
}

const TensorView* WeightSet::stored(const std::string& name, std::vector<std::int64_t> shape, DType dtype, bool ternary) {
  // U8 holds four 2-bit weights per byte (the one packed format read today)
  declare(name, shape, dtype, ternary).packing = dtype == DType::U8 ? 4 : 1;
  return loading() ? &checkpoint_->tensor(name) : nullptr;
}

std::vector<float> WeightSet::host_f32(const std::string& name, std::vector<std::int64_t> shape, bool counted) {
  declare(name, shape, std::nullopt, false).counted = counted;
  return loading() ? checkpoint_->tensor(name).to_f32() : std::vector<float>{};
}

}  // namespace lmscope
