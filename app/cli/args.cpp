#include "cli/args.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "lmscope/checkpoint.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"

namespace lmscope::cli {

Args::Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& value_options,
           const std::set<std::string>& flag_options)
    : command_(command) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) throw BadInput(command + ": unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (value_options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw BadInput(command + ": option --" + name + " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
    } else if (flag_options.count(name) && !inline_value) {
      flags_.insert(name);
    } else {
      std::string known;
      for (const auto& o : value_options) known += " --" + o;
      for (const auto& o : flag_options) known += " --" + o;
      throw BadInput(command + ": unknown option --" + name + " (known:" + known + ")");
    }
  }
}

std::string Args::required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw BadInput(command_ + ": option --" + name + " is required");
  return it->second;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::optional<std::string> Args::optional(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::int64_t Args::integer(const std::string& name, std::int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  std::int64_t v = 0;
  const auto& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw BadInput(command_ + ": option --" + name + " expects an integer, got '" + s + "'");
  return v;
}

std::int64_t Args::integer_in(const std::string& name, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
  const auto v = integer(name, fallback);
  if (has(name) && (v < lo || v > hi))
    throw BadInput(command_ + ": option --" + name + " must be from " + std::to_string(lo) + " to " + std::to_string(hi) +
                   ", got " + std::to_string(v));
  return v;
}

std::vector<std::int32_t> parse_token_list(const std::string& text, const std::string& option) {
  std::vector<std::int32_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 0 || v > INT32_MAX)
      throw BadInput(option + ": expected comma-separated non-negative token ids, got '" + item + "'");
    out.push_back(static_cast<std::int32_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::int32_t> read_token_file(const std::string& path) {
  const auto j = parse_json_input(read_input_file(path, "the token file", kMaxTextFileBytes), path);
  if (!j.is_array()) throw BadInput(path + ": expected a JSON array of token ids");
  std::vector<std::int32_t> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number_integer() || j[i].get<std::int64_t>() < 0 || j[i].get<std::int64_t>() > INT32_MAX)
      throw BadInput(path + ": element " + std::to_string(i) + " is not a non-negative integer token id: " + j[i].dump());
    out.push_back(static_cast<std::int32_t>(j[i].get<std::int64_t>()));
  }
  return out;
}

std::vector<std::int32_t> tokens_from_args(const Args& args) {
  const bool inline_list = args.has("tokens"), file = args.has("tokens-file");
  if (inline_list == file) throw BadInput("give exactly one of --tokens 1,2,3 and --tokens-file ids.json");
  auto ids = inline_list ? parse_token_list(args.required("tokens"), "--tokens") : read_token_file(args.required("tokens-file"));
  if (ids.empty()) throw BadInput("no tokens given");
  return ids;
}

Checkpoint open_checkpoint(const Args& args) {
  return Checkpoint::open(args.required("model"), args.get("force-family", ""));
}

LoadOptions load_options_from_args(const Args& args) {
  LoadOptions o;
  o.backend = args.get("backend", "cpu");
  o.rope_override = args.get("rope", "");
  o.dtype = args.get("dtype", "");  // commands that accept --dtype list it among their options
  o.allow_nonfinite = args.flag("allow-nonfinite");
  return o;
}

std::unique_ptr<Tokenizer> tokenizer_from_args(const Args& args) {
  const auto tok = args.optional("tokenizer");
  if (tok && *tok == "bytes") {
    // BOS/EOS of a byte-level model are ids its config reserves.
    if (const auto model = args.optional("model")) {
      const ModelSpec spec = read_model_spec(std::filesystem::path(*model) / "config.json");
      return make_byte_tokenizer(spec.bos_token_id ? std::optional<std::int32_t>(static_cast<std::int32_t>(*spec.bos_token_id)) : std::nullopt,
                                 spec.eos_token_ids.empty() ? std::nullopt : std::optional<std::int32_t>(static_cast<std::int32_t>(spec.eos_token_ids[0])));
    }
    return make_byte_tokenizer();
  }
  const auto where = tok ? std::filesystem::path(*tok) : args.optional("model") ? std::filesystem::path(*args.optional("model"))
                                                                               : std::filesystem::path();
  if (where.empty()) throw BadInput("give --model DIR or --tokenizer FILE|bytes");
  refuse_non_regular(where, {"tokenizer.json", "tokenizer.model", "tokenizer_config.json"});
  return load_tokenizer(where);
}

std::string ids_json(const std::vector<std::int32_t>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

}  // namespace lmscope::cli
