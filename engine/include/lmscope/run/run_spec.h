// A RunSpec: models × settings × tasks, as JSON (docs/runspec.md). Version 1:
//   {"lmscope_run": 1, "name": "...",
//    "models": ["DIR" | {"path": "DIR", "name": "...", "tokenizer": "bytes" | "FILE-OR-DIR", "force_family": "ID"}],
//    "rope": ["" | "TYPE:k=v,..." | {"type": "yarn", "factor": [2, 4], ...}],   (a sweep; default: the checkpoint's)
//    "tasks": ["wikitext" | {"task": "wikitext", "data": "...", ...}],
//    "backend": "cpu", "dtype": "fp32"|"bf16", "seed": 1234, "limit": N, "max_length": N, "batch_size": N}
// Top-level limit / max_length / seed / batch_size are defaults for every task entry. Relative paths are taken
// from the spec file's folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmscope::run {

constexpr int kRunSpecVersion = 1;
// What one spec may ask for (each far beyond a real study; a typo such as a grid over a 10^6-long list is refused
// before it is expanded).
constexpr std::size_t kMaxRunModels = 1000;
constexpr std::uint64_t kMaxRopeSettings = 10000;
constexpr std::int64_t kMaxTaskRuns = 100000;

struct ModelEntry {
  std::string path;       // resolved
  std::string name;       // display name (default: the folder's name)
  std::string tokenizer;  // "" (the model folder's), "bytes", or a resolved file/folder path
  std::string force_family;  // "" (the config decides) or a family id the user chose (--force-family)
};

struct RunSpec {
  std::string name;
  std::vector<ModelEntry> models;
  std::vector<std::string> rope;       // override strings, expanded from grids; {""} = checkpoint's own
  std::vector<nlohmann::json> tasks;   // task settings with the top-level defaults merged in
  std::string backend = "cpu";
  std::string dtype = "fp32";  // resolved: absent in the spec = the backend's default (cpu fp32, cuda bf16)
  std::string base_dir;                // where relative data paths are resolved
  nlohmann::json source;               // the spec as given (stored with the run)

  // Hash of the normalised spec (models, rope, tasks, backend, dtype): names the run in the store.
  std::string hash() const;
  std::int64_t task_run_count() const {
    return static_cast<std::int64_t>(models.size() * rope.size() * tasks.size());
  }
};

// BadInput naming `where` (the file) and the field when the spec is malformed.
RunSpec parse_run_spec(const nlohmann::json& spec, const std::string& base_dir, const std::string& where);
RunSpec load_run_spec(const std::filesystem::path& file);

// A RoPE grid {"type": T, key: value-or-list, ...} as override strings "T:key=value,..." (cartesian product, keys
// in the order given).
std::vector<std::string> expand_rope_grid(const nlohmann::json& grid, const std::string& where);

}  // namespace lmscope::run
