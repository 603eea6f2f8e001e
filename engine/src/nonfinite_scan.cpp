#include "lmscope/nonfinite_scan.h"

#include <cstdint>
#include <cstring>

namespace lmscope {
namespace {

// An element is NaN or infinite exactly when all its exponent bits are set.
template <typename Bits>
std::optional<std::size_t> scan(const unsigned char* p, std::size_t n, Bits exponent) {
  constexpr std::size_t kBlock = 4096;
  for (std::size_t b = 0; b < n; b += kBlock) {
    const std::size_t e = b + kBlock < n ? b + kBlock : n;
    // Branch-free over the block (vectorised); only a block that has one is searched element by element.
    unsigned any = 0;
    for (std::size_t i = b; i < e; ++i) {
      Bits x;
      std::memcpy(&x, p + i * sizeof(Bits), sizeof(Bits));
      any |= static_cast<unsigned>((x & exponent) == exponent);
    }
    if (any)
      for (std::size_t i = b; i < e; ++i) {
        Bits x;
        std::memcpy(&x, p + i * sizeof(Bits), sizeof(Bits));
        if ((x & exponent) == exponent) return i;
      }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::size_t> first_nonfinite(DType type, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  switch (type) {
    case DType::F32:
      return scan<std::uint32_t>(p, n, 0x7F800000u);
    case DType::BF16:
      return scan<std::uint16_t>(p, n, 0x7F80u);
    case DType::F16:
      return scan<std::uint16_t>(p, n, 0x7C00u);
    default:
      return std::nullopt;
  }
}

}  // namespace lmscope
