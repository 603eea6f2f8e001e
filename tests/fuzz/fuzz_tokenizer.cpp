// libFuzzer target: loading a tokenizer through the public API (load_tokenizer on a folder) and encoding and
// decoding with it. The first byte picks tokenizer.json or SentencePiece's tokenizer.model; the input up to the
// first NUL byte is that file, the rest the text to encode. Tokenizer sources are not changed here: a finding is
// reported to their owner.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "lmscope/error.h"
#include "lmscope/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lmscope;
  if (size < 1) return 0;
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / ("lmscope-fuzz-tokenizer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto nul = input.find('\0');
  const auto file = input.substr(0, nul);
  const auto text = nul == std::string_view::npos ? std::string_view("Hello world") : input.substr(nul + 1);
  const bool sentencepiece = data[0] & 1;
  std::error_code ec;
  std::filesystem::remove(dir / "tokenizer.json", ec);
  std::filesystem::remove(dir / "tokenizer.model", ec);
  std::ofstream(dir / (sentencepiece ? "tokenizer.model" : "tokenizer.json"), std::ios::binary)
      .write(file.data(), static_cast<std::streamsize>(file.size()));
  try {
    const auto tok = load_tokenizer(dir);
    const auto ids = tok->encode(text);
    tok->decode(ids);
    EncodeOptions special;
    special.allow_special = true;
    tok->encode(text, special);
  } catch (const BadInput&) {
  }
  return 0;
}
