// A small command-line parser: "--name value" and "--flag" options after the subcommand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lmscope/model.h"
#include "lmscope/tokenizer.h"

namespace lmscope::cli {

class Args {
 public:
  // `value_options` take a value, `flag_options` do not; anything else is a BadInput naming the option.
  Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& value_options,
       const std::set<std::string>& flag_options);

  bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
  std::string required(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback) const;
  std::optional<std::string> optional(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback) const;
  // An integer option that must lie in [lo, hi] when given (sizes that allocate: tokens to generate, batch, ...).
  std::int64_t integer_in(const std::string& name, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const;
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// "1,2,3" or a file holding a JSON array of integers.
std::vector<std::int32_t> parse_token_list(const std::string& text, const std::string& option);
std::vector<std::int32_t> read_token_file(const std::string& path);
// --tokens or --tokens-file, exactly one of them.
std::vector<std::int32_t> tokens_from_args(const Args& args);
// --backend, --rope, --dtype and --allow-nonfinite.
LoadOptions load_options_from_args(const Args& args);
// The checkpoint of --model, its family chosen by --force-family when given (commands that load a model accept it).
Checkpoint open_checkpoint(const Args& args);
// --tokenizer FILE|FOLDER|bytes, else the tokenizer files of --model's folder.
std::unique_ptr<Tokenizer> tokenizer_from_args(const Args& args);
// ids as a JSON array: [1,2,3]
std::string ids_json(const std::vector<std::int32_t>& ids);

}  // namespace lmscope::cli
