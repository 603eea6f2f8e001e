// Element types as safetensors names them, and conversion of stored weights to float32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lmscope {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, U16, U32, U64, BOOL, F8_E4M3, F8_E5M2 };

// The safetensors name ("F32", "BF16", ...).
std::string_view dtype_name(DType t);
// torch-style name for people ("float32", "bfloat16", ...).
std::string_view dtype_display_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
std::size_t dtype_size(DType t);
bool dtype_is_float_weight(DType t);  // F32, F16, BF16: what checkpoints may store weights in

float bf16_to_float(std::uint16_t v);
float f16_to_float(std::uint16_t v);
std::uint16_t float_to_bf16(float f);  // round to nearest even
std::uint16_t float_to_f16(float f);   // round to nearest even

// Converts n elements of a float weight type (F32/F16/BF16) at src (any alignment) to float32.
void convert_to_f32(DType t, const void* src, float* dst, std::size_t n);

}  // namespace lmscope
