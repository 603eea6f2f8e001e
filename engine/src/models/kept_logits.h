// AppendOutput::kept_logits' handle: a float32 [rows, vocab] logits tensor left on the backend that computed it.
#pragma once

#include "backend/backend.h"
#include "lmscope/model.h"

namespace lmscope {

class KeptLogits final : public LogitsBlock {
 public:
  KeptLogits(Backend& backend, Tensor logits) : backend_(backend), logits_(std::move(logits)) {}
  std::int64_t rows() const override { return logits_.rows(); }
  std::int64_t vocab() const override { return logits_.cols(); }
  Backend& backend() const { return backend_; }
  const Tensor& logits() const { return logits_; }

 private:
  Backend& backend_;
  Tensor logits_;
};

}  // namespace lmscope
