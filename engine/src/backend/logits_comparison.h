// One position of two logits rows compared on the host (lmscope::LogitsComparison's definitions): the CPU
// backend's compare_logits and the reference the CUDA kernel is tested against.
#pragma once

#include <cstdint>
#include <span>

#include "lmscope/model.h"

namespace lmscope {

// Exponentials in float, sums in double: identical rows give KL exactly 0, otherwise the absolute error is ~1e-7
// nats. A KL below 0 by rounding is reported as 0. Rows of equal, non-zero length.
LogitsComparison compare_logits_row(std::span<const float> base, std::span<const float> model, std::int32_t target);

}  // namespace lmscope
