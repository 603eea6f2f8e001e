#include "lmscope/dtype.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "lmscope/error.h"

namespace lmscope {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  std::string_view display;
  std::size_t size;
};

constexpr std::array<DTypeInfo, 15> kTypes{{
    {DType::F64, "F64", "float64", 8},      {DType::F32, "F32", "float32", 4},
    {DType::F16, "F16", "float16", 2},      {DType::BF16, "BF16", "bfloat16", 2},
    {DType::I64, "I64", "int64", 8},        {DType::I32, "I32", "int32", 4},
    {DType::I16, "I16", "int16", 2},        {DType::I8, "I8", "int8", 1},
    {DType::U8, "U8", "uint8", 1},          {DType::U16, "U16", "uint16", 2},
    {DType::U32, "U32", "uint32", 4},       {DType::U64, "U64", "uint64", 8},
    {DType::BOOL, "BOOL", "bool", 1},       {DType::F8_E4M3, "F8_E4M3", "float8_e4m3fn", 1},
    {DType::F8_E5M2, "F8_E5M2", "float8_e5m2", 1},
}};

const DTypeInfo& info(DType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return i;
  throw InternalError("unknown dtype enum value");
}

}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
std::string_view dtype_display_name(DType t) { return info(t).display; }
std::size_t dtype_size(DType t) { return info(t).size; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kTypes)
    if (i.name == name) return i.type;
  return std::nullopt;
}

bool dtype_is_float_weight(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

float bf16_to_float(std::uint16_t v) { return std::bit_cast<float>(static_cast<std::uint32_t>(v) << 16); }

std::uint16_t float_to_bf16(float f) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // keep it a NaN
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<std::uint16_t>(u >> 16);
}

float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1F;
  const std::uint32_t mant = h & 0x3FF;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

std::uint16_t float_to_f16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return sign | 0x7E00;
  const float a = std::fabs(f);
  if (a >= 65520.0f) return sign | 0x7C00;  // overflows to infinity
  if (a < 6.103515625e-05f) {               // subnormal range: round a * 2^24 to an integer, nearest even
    const float scaled = a * 16777216.0f;
    return sign | static_cast<std::uint16_t>(std::nearbyint(scaled));
  }
  std::uint32_t x = std::bit_cast<std::uint32_t>(a);
  x += 0x0FFF + ((x >> 13) & 1);  // round mantissa to 10 bits, nearest even
  const std::uint32_t exp = (x >> 23) - 112;
  return sign | static_cast<std::uint16_t>((exp << 10) | ((x >> 13) & 0x3FF));
}

void convert_to_f32(DType t, const void* src, float* dst, std::size_t n) {
  if (n == 0) return;  // an empty tensor has no data pointer: memcpy must not see it even for 0 bytes
  const auto* bytes = static_cast<const unsigned char*>(src);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, bytes + 2 * i, 2);
        dst[i] = bf16_to_float(v);
      }
      return;
    case DType::F16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, bytes + 2 * i, 2);
        dst[i] = f16_to_float(v);
      }
      return;
    default:
      throw InternalError("convert_to_f32: not a float weight type: " + std::string(dtype_name(t)));
  }
}

}  // namespace lmscope
