#include "lmscope/error.h"
#include "lmscope/tokenizer.h"
#include "tokenizer/tokenizers.h"

namespace lmscope {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& path) {
  if (fs::is_directory(path)) {
    const TokenizerConfig cfg = read_tokenizer_config(path / "tokenizer_config.json");
    if (fs::exists(path / "tokenizer.model")) return make_sentencepiece_tokenizer(path / "tokenizer.model", cfg);
    if (fs::exists(path / "tokenizer.json")) return make_bpe_tokenizer(path / "tokenizer.json", cfg);
    throw BadInput(path.string() + ": no tokenizer.model or tokenizer.json (give --tokenizer FILE, or --tokenizer bytes for a "
                                   "byte-level model)");
  }
  if (!fs::exists(path)) throw BadInput(path.string() + ": no such tokenizer file or folder");
  const TokenizerConfig cfg = read_tokenizer_config(path.parent_path() / "tokenizer_config.json");
  if (path.extension() == ".json") return make_bpe_tokenizer(path, cfg);
  if (path.extension() == ".model") return make_sentencepiece_tokenizer(path, cfg);
  throw BadInput(path.string() + ": unknown tokenizer file type (expected tokenizer.json or a SentencePiece .model)");
}

}  // namespace lmscope
