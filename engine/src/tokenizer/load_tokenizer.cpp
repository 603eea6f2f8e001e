#include "lmscope/error.h"
#include "lmscope/tokenizer.h"
#include "tokenizer/tokenizers.h"

namespace lmscope {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& path) {
  fs::path file;
  if (fs::is_directory(path)) {
    // tokenizer.json first: what transformers' AutoTokenizer (use_fast=True, the default) reads when a folder has
    // both, as Llama 2, Mistral and Gemma folders do.
    if (fs::exists(path / "tokenizer.json")) file = path / "tokenizer.json";
    else if (fs::exists(path / "tokenizer.model")) file = path / "tokenizer.model";
    else
      throw BadInput(path.string() + ": no tokenizer.json or tokenizer.model (give --tokenizer FILE, or --tokenizer bytes for a "
                                     "byte-level model)");
  } else {
    if (!fs::exists(path)) throw BadInput(path.string() + ": no such tokenizer file or folder");
    file = path;
  }
  const TokenizerConfig cfg = read_tokenizer_config(file.parent_path() / "tokenizer_config.json");
  std::unique_ptr<Tokenizer> tok;
  if (file.extension() == ".json") tok = make_hf_tokenizer(file, cfg);
  else if (file.extension() == ".model") tok = make_sentencepiece_tokenizer(file, cfg);
  else throw BadInput(path.string() + ": unknown tokenizer file type (expected tokenizer.json or a SentencePiece .model)");
  tok->model_type_ = cfg.model_type;
  return tok;
}

}  // namespace lmscope
