// libFuzzer target: the safetensors reader over arbitrary bytes. Every input must either parse (and then every
// float tensor can be scanned and converted within the bytes it claims) or be refused as BadInput; anything else —
// another exception, a crash, a sanitizer report — is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lmscope/error.h"
#include "lmscope/nonfinite_scan.h"
#include "lmscope/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  try {
    const auto file = SafetensorsFile::parse(
        MappedFile::from_bytes("fuzz.safetensors", std::string(reinterpret_cast<const char*>(data), size)));
    for (const auto& [name, t] : file.tensors()) {
      if (!dtype_is_float_weight(t.dtype)) continue;
      first_nonfinite(t.dtype, t.data, static_cast<std::size_t>(t.numel()));
      if (t.numel() <= 4096) t.to_f32();
    }
  } catch (const BadInput&) {
  }
  return 0;
}
