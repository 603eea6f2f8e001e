// tokenize / detokenize: the tokenizer of a model folder or file, or UTF-8 bytes (--tokenizer bytes).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"
#include "lmscope/tokenizer.h"

namespace lmscope::cli {
namespace {

std::string read_file(const std::string& path) { return read_input_file(path, "the text file", kMaxTextFileBytes); }


}  // namespace

int cmd_tokenize(const Argv& argv) {
  Args args("tokenize", argv, {"model", "tokenizer", "text", "text-file", "jsonl", "field"}, {"no-bos", "allow-special", "stats"});
  const auto tok = tokenizer_from_args(args);
  EncodeOptions o;
  if (args.flag("no-bos")) o.add_bos = false;
  o.allow_special = args.flag("allow-special");
  const int sources = args.has("text") + args.has("text-file") + args.has("jsonl");
  if (sources != 1) throw BadInput("tokenize: give exactly one of --text, --text-file, --jsonl");
  std::vector<std::string> texts;
  if (args.has("text")) texts.push_back(args.required("text"));
  if (args.has("text-file")) texts.push_back(read_file(args.required("text-file")));
  if (args.has("jsonl")) {
    const std::string path = args.required("jsonl"), field = args.get("field", "text");
    std::istringstream in(read_file(path));
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      const auto j = parse_json_input(line, path + ": line " + std::to_string(n));
      if (!j.is_object() || !j.contains(field) || !j[field].is_string())
        throw BadInput(path + ": line " + std::to_string(n) + " has no string field '" + field + "'");
      texts.push_back(j[field].get<std::string>());
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t total = 0, bytes = 0;
  std::vector<std::vector<std::int32_t>> out;
  for (const auto& t : texts) {
    out.push_back(tok->encode(t, o));
    total += out.back().size();
    bytes += t.size();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& ids : out) std::printf("%s\n", ids_json(ids).c_str());
  if (args.flag("stats"))
    std::fprintf(stderr, "%s: %zu texts, %zu bytes -> %zu tokens in %.3f s (%.0f tokens/s)\n", tok->kind().c_str(), texts.size(),
                 bytes, total, secs, static_cast<double>(total) / secs);
  return 0;
}

int cmd_detokenize(const Argv& argv) {
  Args args("detokenize", argv, {"model", "tokenizer", "ids", "ids-file"}, {});
  const auto tok = tokenizer_from_args(args);
  if (args.has("ids") == args.has("ids-file")) throw BadInput("detokenize: give exactly one of --ids 1,2,3 and --ids-file ids.json");
  const auto ids = args.has("ids") ? parse_token_list(args.required("ids"), "--ids") : read_token_file(args.required("ids-file"));
  const std::string text = tok->decode(ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
  return 0;
}

}  // namespace lmscope::cli
