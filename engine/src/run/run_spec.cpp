#include "lmscope/run/run_spec.h"

#include <fstream>
#include <sstream>

#include "eval/task_data.h"
#include "lmscope/error.h"

namespace lmscope::run {
namespace {

std::string number_text(const nlohmann::json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  std::ostringstream ss;
  ss.precision(17);
  ss << v.get<double>();
  return ss.str();
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
  std::vector<std::string> out{grid["type"].get<std::string>()};
  bool first = true;
  for (const auto& [k, v] : grid.items()) {
    if (k == "type") continue;
    std::vector<std::string> values;
    if (v.is_array()) {
      if (v.empty()) throw BadInput(where + ": rope grid field '" + k + "' is an empty list");
      for (const auto& x : v) {
        if (!x.is_number()) throw BadInput(where + ": rope grid field '" + k + "' must hold numbers");
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
      throw BadInput(where + ": unknown field '" + k + "'");
  if (j.contains("lmscope_run")) {
    if (!j["lmscope_run"].is_number_integer() || j["lmscope_run"].get<int>() != kRunSpecVersion)
      throw BadInput(where + ": field 'lmscope_run' must be " + std::to_string(kRunSpecVersion) +
                     " (the run spec version this lmscope reads)");
  }
  RunSpec s;
  s.base_dir = base_dir;
  s.source = j;
  s.name = j.value("name", std::string());
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty())
    throw BadInput(where + ": field 'models' must be a non-empty list of checkpoint folders");
  for (const auto& m : j["models"]) {
    ModelEntry e;
    if (m.is_string()) {
      e.path = resolve(m.get<std::string>(), base_dir);
    } else if (m.is_object() && m.contains("path") && m["path"].is_string()) {
      e.path = resolve(m["path"].get<std::string>(), base_dir);
      e.name = m.value("name", std::string());
      e.tokenizer = m.value("tokenizer", std::string());
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
      if (x.is_string()) s.rope.push_back(x.get<std::string>());
      else if (x.is_object()) for (auto& o : expand_rope_grid(x, where)) s.rope.push_back(o);
      else if (x.is_null()) s.rope.push_back("");
      else throw BadInput(where + ": 'rope' entries are override strings (\"yarn:factor=4\"), grids or null");
    };
    if (r.is_array()) for (const auto& x : r) add(x);
    else add(r);
  }
  if (s.rope.empty()) s.rope.push_back("");
  for (auto& r : s.rope)
    if (r == "none" || r == "checkpoint") r = "";
  s.backend = j.value("backend", std::string("cpu"));
  s.dtype = j.value("dtype", std::string());
  if (s.dtype != "" && s.dtype != "fp32" && s.dtype != "bf16")
    throw BadInput(where + ": field 'dtype' must be \"fp32\" or \"bf16\" (or absent: the backend's default)");
  if (s.dtype.empty()) s.dtype = s.backend == "cuda" ? "bf16" : "fp32";
  if (s.dtype == "bf16" && s.backend != "cuda")
    throw BadInput(where + ": dtype bf16 needs backend \"cuda\" (the CPU path computes in fp32)");
  if (!j.contains("tasks") || !j["tasks"].is_array() || j["tasks"].empty())
    throw BadInput(where + ": field 'tasks' must be a non-empty list of task names or task objects");
  for (const auto& t : j["tasks"]) {
    nlohmann::json e = t.is_string() ? nlohmann::json{{"task", t}} : t;
    if (!e.is_object() || !e.contains("task") || !e["task"].is_string())
      throw BadInput(where + ": each entry of 'tasks' is a task name or an object with a string field 'task'");
    for (const char* k : {"limit", "max_length", "seed", "batch_size"})
      if (j.contains(k) && !j[k].is_null() && !e.contains(k)) e[k] = j[k];
    s.tasks.push_back(std::move(e));
  }
  return s;
}

RunSpec load_run_spec(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw BadInput("run spec " + file.string() + ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw BadInput("run spec " + file.string() + ": not valid JSON (" + e.what() + ")");
  }
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
  return eval::fnv1a64_hex(n.dump());
}

}  // namespace lmscope::run
