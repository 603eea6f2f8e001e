#include "lmscope/run/run_spec.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "eval/task_data.h"
#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"

namespace lmscope::run {
namespace {

std::string number_text(const nlohmann::json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  std::ostringstream ss;
  ss.precision(17);
  ss << v.get<double>();
  return ss.str();
}

// A string that must be UTF-8 text: it ends up in JSON results and events. BadInput naming the field otherwise.
const std::string& utf8_text(const nlohmann::json& v, const std::string& where, const std::string& field) {
  if (!v.is_string()) throw BadInput(where + ": field '" + field + "' must be a string, got " + dump_json(v));
  const auto& t = v.get_ref<const std::string&>();
  if (valid_utf8(t) != t)
    throw BadInput(where + ": field '" + field + "' is not valid UTF-8 text ('" + valid_utf8(t) +
                   "'); rename the file or folder, or give it another way");
  return t;
}

// obj[key] as UTF-8 text; fallback when absent or null.
std::string text_field(const nlohmann::json& obj, const char* key, const std::string& fallback, const std::string& where,
                       const std::string& field) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  return utf8_text(obj[key], where, field);
}

// Every string in a task entry (paths among them) must be UTF-8 text, for the same reason.
void check_utf8_strings(const nlohmann::json& v, const std::string& where, const std::string& field) {
  if (v.is_string()) {
    const auto& t = v.get_ref<const std::string&>();
    if (valid_utf8(t) != t) throw BadInput(where + ": field '" + field + "' is not valid UTF-8 text ('" + valid_utf8(t) + "')");
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.items()) check_utf8_strings(x, where, field + "." + valid_utf8(k));
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) check_utf8_strings(v[i], where, field + "[" + std::to_string(i) + "]");
  }
}

std::string resolve(const std::string& p, const std::string& base_dir) {
  std::filesystem::path path(p);
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  return path.lexically_normal().string();
}

}  // namespace

std::vector<std::string> expand_rope_grid(const nlohmann::json& grid, const std::string& where) {
  if (!grid.contains("type") || !grid["type"].is_string())
    throw BadInput(where + ": a rope grid needs a string field 'type' (linear, dynamic, ntk, yarn, longrope, llama3)");
  // The grid's size is known before it is expanded: refuse a product beyond the limit without building it.
  std::uint64_t settings = 1;
  for (const auto& [k, v] : grid.items())
    if (k != "type" && v.is_array()) {
      settings *= std::max<std::uint64_t>(v.size(), 1);
      if (settings > kMaxRopeSettings)
        throw BadInput(where + ": the rope grid expands to more than " + std::to_string(kMaxRopeSettings) +
                       " settings; split the study into several runs");
    }
  std::vector<std::string> out{text_field(grid, "type", "", where, "rope.type")};
  bool first = true;
  for (const auto& [k, v] : grid.items()) {
    if (k == "type") continue;
    std::vector<std::string> values;
    if (v.is_array()) {
      if (v.empty()) throw BadInput(where + ": rope grid field '" + k + "' is an empty list");
      for (const auto& x : v) {
        if (!x.is_number()) throw BadInput(where + ": rope grid field '" + valid_utf8(k) + "' must hold numbers");
        values.push_back(number_text(x));
      }
    } else if (v.is_number()) {
      values.push_back(number_text(v));
    } else {
      throw BadInput(where + ": rope grid field '" + k + "' must be a number or a list of numbers");
    }
    std::vector<std::string> next;
    for (const auto& prefix : out)
      for (const auto& val : values) next.push_back(prefix + (first ? ":" : ",") + k + "=" + val);
    out = std::move(next);
    first = false;
  }
  return out;
}

RunSpec parse_run_spec(const nlohmann::json& j, const std::string& base_dir, const std::string& where) {
  if (!j.is_object()) throw BadInput(where + ": a run spec is a JSON object");
  static const std::vector<std::string> known{"lmscope_run", "name",  "models", "rope",       "tasks",     "backend",
                                              "dtype",       "seed",  "limit",  "max_length", "batch_size", "comment"};
  for (const auto& [k, v] : j.items())
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw BadInput(where + ": unknown field '" + valid_utf8(k) + "'");
  if (j.contains("lmscope_run")) {
    if (!j["lmscope_run"].is_number_integer() || j["lmscope_run"].get<std::int64_t>() != kRunSpecVersion)
      throw BadInput(where + ": field 'lmscope_run' must be " + std::to_string(kRunSpecVersion) +
                     " (the run spec version this lmscope reads)");
  }
  RunSpec s;
  s.base_dir = base_dir;
  s.source = j;
  s.name = text_field(j, "name", "", where, "name");
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty())
    throw BadInput(where + ": field 'models' must be a non-empty list of checkpoint folders");
  if (j["models"].size() > kMaxRunModels)
    throw BadInput(where + ": more than " + std::to_string(kMaxRunModels) + " models in one run spec");
  for (std::size_t mi = 0; mi < j["models"].size(); ++mi) {
    const auto& m = j["models"][mi];
    const auto field = "models[" + std::to_string(mi) + "]";
    ModelEntry e;
    if (m.is_string()) {
      e.path = resolve(utf8_text(m, where, field), base_dir);
    } else if (m.is_object() && m.contains("path") && m["path"].is_string()) {
      e.path = resolve(text_field(m, "path", "", where, field + ".path"), base_dir);
      e.name = text_field(m, "name", "", where, field + ".name");
      e.tokenizer = text_field(m, "tokenizer", "", where, field + ".tokenizer");
      if (!e.tokenizer.empty() && e.tokenizer != "bytes") e.tokenizer = resolve(e.tokenizer, base_dir);
      if (m.contains("force_family")) {
        if (!m["force_family"].is_string()) throw BadInput(where + ": a model's 'force_family' must be a family name (string)");
        e.force_family = m["force_family"].get<std::string>();
      }
    } else {
      throw BadInput(where + ": each entry of 'models' is a folder path or {\"path\": ..., \"name\": ..., "
                     "\"tokenizer\": ..., \"force_family\": ...}");
    }
    if (e.name.empty()) e.name = std::filesystem::path(e.path).filename().string();
    s.models.push_back(e);
  }
  if (j.contains("rope")) {
    const auto& r = j["rope"];
    auto add = [&](const nlohmann::json& x) {
      if (x.is_string()) s.rope.push_back(utf8_text(x, where, "rope"));
      else if (x.is_object()) for (auto& o : expand_rope_grid(x, where)) s.rope.push_back(o);
      else if (x.is_null()) s.rope.push_back("");
      else throw BadInput(where + ": 'rope' entries are override strings (\"yarn:factor=4\"), grids or null");
    };
    if (r.is_array()) for (const auto& x : r) add(x);
    else add(r);
  }
  if (s.rope.size() > kMaxRopeSettings)
    throw BadInput(where + ": 'rope' expands to more than " + std::to_string(kMaxRopeSettings) + " settings");
  if (s.rope.empty()) s.rope.push_back("");
  for (auto& r : s.rope)
    if (r == "none" || r == "checkpoint") r = "";
  s.backend = text_field(j, "backend", "cpu", where, "backend");
  if (s.backend != "cpu" && s.backend != "cuda")
    throw BadInput(where + ": field 'backend' must be \"cpu\" or \"cuda\", got \"" + valid_utf8(s.backend) + "\"");
  s.dtype = text_field(j, "dtype", "", where, "dtype");
  if (s.dtype != "" && s.dtype != "fp32" && s.dtype != "bf16")
    throw BadInput(where + ": field 'dtype' must be \"fp32\" or \"bf16\" (or absent: the backend's default)");
  if (s.dtype.empty()) s.dtype = s.backend == "cuda" ? "bf16" : "fp32";
  if (s.dtype == "bf16" && s.backend != "cuda")
    throw BadInput(where + ": dtype bf16 needs backend \"cuda\" (the CPU path computes in fp32)");
  if (!j.contains("tasks") || !j["tasks"].is_array() || j["tasks"].empty())
    throw BadInput(where + ": field 'tasks' must be a non-empty list of task names or task objects");
  for (std::size_t ti = 0; ti < j["tasks"].size(); ++ti) {
    const auto& t = j["tasks"][ti];
    nlohmann::json e = t.is_string() ? nlohmann::json{{"task", t}} : t;
    if (!e.is_object() || !e.contains("task") || !e["task"].is_string())
      throw BadInput(where + ": each entry of 'tasks' is a task name or an object with a string field 'task'");
    check_utf8_strings(e, where, "tasks[" + std::to_string(ti) + "]");
    for (const char* k : {"limit", "max_length", "seed", "batch_size"})
      if (j.contains(k) && !j[k].is_null() && !e.contains(k)) e[k] = j[k];
    s.tasks.push_back(std::move(e));
  }
  // Each entry is a task instance named by its alias (else the task's name) in the results: two of one name would
  // overwrite each other there.
  std::map<std::string, std::size_t> named;
  for (std::size_t i = 0; i < s.tasks.size(); ++i) {
    const auto& t = s.tasks[i];
    const auto name = t.contains("alias") && t["alias"].is_string() ? t["alias"].get<std::string>() : t["task"].get<std::string>();
    if (const auto [it, fresh] = named.emplace(name, i); !fresh)
      throw BadInput(where + ": tasks[" + std::to_string(it->second) + "] and tasks[" + std::to_string(i) +
                     "] are both named '" + valid_utf8(name) + "' in the results; give each entry of one task its own "
                     "\"alias\"");
  }
  if (s.task_run_count() > kMaxTaskRuns)
    throw BadInput(where + ": models × rope settings × tasks = " + std::to_string(s.task_run_count()) +
                   " task runs; one spec holds at most " + std::to_string(kMaxTaskRuns) + " (split it)");
  return s;
}

RunSpec load_run_spec(const std::filesystem::path& file) {
  const auto j = parse_json_input(read_input_file(file, "the run spec", kMaxConfigFileBytes), "run spec " + file.string());
  auto dir = std::filesystem::absolute(file).parent_path().string();
  return parse_run_spec(j, dir, file.string());
}

std::string RunSpec::hash() const {
  nlohmann::json n;
  for (const auto& m : models) {
    nlohmann::json entry{m.path, m.name, m.tokenizer};
    if (!m.force_family.empty()) entry.push_back(m.force_family);  // absent otherwise: older specs keep their hash
    n["models"].push_back(entry);
  }
  n["rope"] = rope;
  n["tasks"] = tasks;
  n["backend"] = backend;
  n["dtype"] = dtype;
  n["base_dir"] = base_dir;
  return eval::fnv1a64_hex(dump_json(n));
}

}  // namespace lmscope::run
