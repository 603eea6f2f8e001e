// GPT-2's reversible byte <-> printable character table, which byte-level BPE vocabularies are written in.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace lmscope {

// The UTF-8 of the character standing for each byte ("Ġ" for the space byte).
const std::array<std::string, 256>& byte_level_chars();
// The bytes a byte-level token string stands for; nullopt when a character is outside the table (then the token
// is not byte-level text, e.g. a special token's own text).
std::optional<std::string> byte_level_to_bytes(std::string_view token);

}  // namespace lmscope
