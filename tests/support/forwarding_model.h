// A Model that forwards every call to another: test wrappers derive from it and override only what they record or
// change (a batched pass's shape, an out-of-memory).
#pragma once

#include "lmscope/model.h"

namespace lmscope::test {

class ForwardingModel : public Model {
 public:
  explicit ForwardingModel(const Model& inner) : inner_(inner) {}
  const ModelSpec& spec() const override { return inner_.spec(); }
  std::string backend_name() const override { return inner_.backend_name(); }
  std::unique_ptr<Sequence> new_sequence() const override { return inner_.new_sequence(); }
  void score_batch(std::span<const std::int32_t> tokens, std::int64_t batch, std::span<const std::int32_t> targets,
                   std::vector<double>& logprobs, std::vector<std::uint8_t>& greedy) const override {
    inner_.score_batch(tokens, batch, targets, logprobs, greedy);
  }
  bool pads_exactly(std::int64_t length, std::int64_t padded) const override {
    return inner_.pads_exactly(length, padded);
  }

 protected:
  const Model& inner_;
};

}  // namespace lmscope::test
