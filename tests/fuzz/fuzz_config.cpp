// libFuzzer target: config.json normalisation for every family, then what is computed from the spec before any
// weight is read (the tensor list, the parameter count, RoPE frequencies). After a NUL byte, the rest of the input
// is a run-time RoPE override ("yarn:factor=4,..."). BadInput is the only acceptable failure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/rope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const auto config = input.substr(0, nul);
  try {
    auto spec = model_spec_from_text(config, "config.json");
    parameter_count(spec);
    describe_rope(spec.rope);
    if (nul != std::string_view::npos) spec.rope = apply_rope_override(spec.rope, input.substr(nul + 1));
    if (spec.uses_rope && spec.head_dim > 0) {
      rope_frequencies(spec.rope, spec.head_dim, 1);
      rope_frequencies(spec.rope, spec.head_dim, 1 << 20);
    }
  } catch (const BadInput&) {
  }
  return 0;
}
