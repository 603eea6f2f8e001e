#include "eval/packed_floats.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "lmscope/error.h"

namespace lmscope::eval {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

static_assert(std::endian::native == std::endian::little, "packed floats are stored little-endian");

}  // namespace

std::string pack_floats(std::span<const float> values) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  const std::size_t n = values.size() * sizeof(float);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t b0 = bytes[i], b1 = i + 1 < n ? bytes[i + 1] : 0, b2 = i + 2 < n ? bytes[i + 2] : 0;
    const std::uint32_t w = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(w >> 18) & 63];
    out += kAlphabet[(w >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(w >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[w & 63] : '=';
  }
  return out;
}

std::vector<float> unpack_floats(std::string_view packed, const std::string& what) {
  if (packed.size() % 4 != 0) throw BadInput(what + ": packed values are not base64 (length not a multiple of 4)");
  std::vector<unsigned char> bytes;
  bytes.reserve(packed.size() / 4 * 3);
  for (std::size_t i = 0; i < packed.size(); i += 4) {
    std::array<int, 4> s{};
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = packed[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == packed.size() && k >= 2) {
        ++pad;
        s[static_cast<std::size_t>(k)] = 0;
        continue;
      }
      s[static_cast<std::size_t>(k)] = pad ? -1 : sextet(c);
      if (s[static_cast<std::size_t>(k)] < 0) throw BadInput(what + ": packed values are not base64");
    }
    const std::uint32_t w = (static_cast<std::uint32_t>(s[0]) << 18) | (static_cast<std::uint32_t>(s[1]) << 12) |
                            (static_cast<std::uint32_t>(s[2]) << 6) | static_cast<std::uint32_t>(s[3]);
    bytes.push_back(static_cast<unsigned char>(w >> 16));
    if (pad < 2) bytes.push_back(static_cast<unsigned char>(w >> 8));
    if (pad < 1) bytes.push_back(static_cast<unsigned char>(w));
  }
  if (bytes.size() % sizeof(float) != 0) throw BadInput(what + ": packed values are not whole float32 numbers");
  std::vector<float> out(bytes.size() / sizeof(float));
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());  // an empty vector's data() may be null
  return out;
}

}  // namespace lmscope::eval
