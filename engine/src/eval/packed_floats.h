// Per-token values in unit results: float32 arrays as base64 of their little-endian bytes. A JSON array of the same
// numbers as doubles is ~4× larger, and the compare task keeps three or four values for every token it scores.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmscope::eval {

std::string pack_floats(std::span<const float> values);
// BadInput naming `what` when the text is not the base64 of whole float32 values (an edited store).
std::vector<float> unpack_floats(std::string_view packed, const std::string& what);

}  // namespace lmscope::eval
