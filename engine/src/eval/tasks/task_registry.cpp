#include "eval/tasks/task_registry.h"

#include <algorithm>

#include "lmscope/error.h"
#include "lmscope/input_file.h"
#include "lmscope/json_input.h"

namespace lmscope::eval {

const std::vector<TaskSchema>& task_schemas() {
  static const std::vector<TaskSchema> all = [] {
    std::vector<TaskSchema> t{wikitext_schema(), lambada_schema(),  charlevel_schema(), ppl_vs_length_schema(),
                              longppl_schema(),  passkey_schema()};
    for (auto& r : ruler_schemas()) t.push_back(std::move(r));
    for (auto& m : multiple_choice_schemas()) t.push_back(std::move(m));
    t.push_back(recall_schema());
    t.push_back(compare_schema());
    t.push_back(throughput_schema());
    const auto& groups = task_groups();
    std::stable_sort(t.begin(), t.end(), [&](const TaskSchema& a, const TaskSchema& b) {
      return std::find(groups.begin(), groups.end(), a.group) < std::find(groups.begin(), groups.end(), b.group);
    });
    for (std::size_t i = 0; i < t.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (t[i].name == t[j].name) throw InternalError("two tasks are named " + t[i].name);
    return t;
  }();
  return all;
}

const TaskSchema* find_task_schema(std::string_view name) {
  for (const auto& t : task_schemas())
    if (t.name == name) return &t;
  return nullptr;
}

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& t : task_schemas()) n.push_back(t.name);
    return n;
  }();
  return names;
}

std::unique_ptr<Task> make_task(const nlohmann::json& settings, const TaskEnv& env, const std::string& base_dir) {
  if (!settings.is_object() || !settings.contains("task") || !settings["task"].is_string())
    throw BadInput("a task entry needs a string field 'task' (one of the task names; see `lmscope-cli tasks`)");
  const auto name = settings["task"].get<std::string>();
  const auto* schema = find_task_schema(name);
  if (!schema) {
    std::string list;
    for (const auto& n : task_names()) list += (list.empty() ? "" : ", ") + n;
    throw BadInput("unknown task '" + valid_utf8(name) + "'; known: " + list);
  }
  const TaskSettings s(settings, *schema);
  return schema->make(s, env, base_dir);
}

std::int64_t resolve_max_length(const ModelSpec& spec, const std::filesystem::path& model_dir) {
  if (spec.max_position_embeddings > 0) return spec.max_position_embeddings;
  const auto tc = model_dir / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(tc, ec)) {
    const auto j = parse_json_input(read_input_file(tc, "the tokenizer configuration", kMaxConfigFileBytes), tc.string());
    if (j.is_object() && j.contains("model_max_length") && j["model_max_length"].is_number()) {
      const double m = j["model_max_length"].get<double>();
      // transformers writes VERY_LARGE_INTEGER (int(1e30)) when the length is unknown; lm-eval then uses 2048.
      if (m > 0 && m < 1e18) return static_cast<std::int64_t>(m);
    }
  }
  return 2048;
}

}  // namespace lmscope::eval
