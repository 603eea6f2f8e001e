#include "lmscope/eval/task_schema.h"

#include <cmath>

#include "eval/task_data.h"
#include "lmscope/error.h"

namespace lmscope::eval {

const char* setting_type_name(SettingType t) {
  switch (t) {
    case SettingType::text: return "string";
    case SettingType::integer: return "int";
    case SettingType::integer_list: return "int_list";
    case SettingType::number: return "number";
    case SettingType::number_list: return "number_list";
    case SettingType::boolean: return "bool";
    case SettingType::choice: return "choice";
    case SettingType::file: return "file";
    case SettingType::file_list: return "file_list";
    case SettingType::folder: return "folder";
    case SettingType::word_list: return "word_list";
  }
  return "string";
}

const char* task_group_name(TaskGroup g) {
  switch (g) {
    case TaskGroup::perplexity: return "perplexity";
    case TaskGroup::long_context: return "long_context";
    case TaskGroup::multiple_choice: return "multiple_choice";
    case TaskGroup::generation: return "generation";
    case TaskGroup::other: return "other";
  }
  return "other";
}

const char* task_group_title(TaskGroup g) {
  switch (g) {
    case TaskGroup::perplexity: return "Perplexity";
    case TaskGroup::long_context: return "Long context";
    case TaskGroup::multiple_choice: return "Multiple choice";
    case TaskGroup::generation: return "Generation";
    case TaskGroup::other: return "Other";
  }
  return "Other";
}

const std::vector<TaskGroup>& task_groups() {
  static const std::vector<TaskGroup> g{TaskGroup::perplexity, TaskGroup::long_context, TaskGroup::multiple_choice,
                                        TaskGroup::generation, TaskGroup::other};
  return g;
}

const SettingSchema* TaskSchema::find(std::string_view key) const {
  for (const auto& s : settings)
    if (s.key == key) return &s;
  return nullptr;
}

const std::vector<SettingSchema>& common_setting_schemas() {
  using T = SettingType;
  static const std::vector<SettingSchema> s{
      {.key = "alias", .type = T::text, .label = "alias",
       .help = "the name of this task instance in the results, events and store (none: the task's name); entries of "
               "one task in a spec need different aliases",
       .default_value = nullptr, .common = true},
      {.key = "limit", .type = T::integer, .label = "limit",
       .help = "at most this many items (documents, windows, questions) per task; none: all",
       .default_value = nullptr, .min = 0, .common = true},
      {.key = "max_length", .type = T::integer, .label = "max length",
       .help = "the longest window a model reads; none: lm-eval's rule (config n_positions / max_position_embeddings "
               "/ n_ctx, else tokenizer_config's model_max_length, else 2048)",
       .default_value = nullptr, .min = 1, .max = static_cast<double>(kMaxTaskContext), .common = true},
      {.key = "seed", .type = T::integer, .label = "seed",
       .help = "seed of a task's random draws (keys, samples, ids); none: the task's own",
       .default_value = nullptr, .common = true},
      {.key = "batch_size", .type = T::integer, .label = "batch size",
       .help = "windows of equal length scored in one pass (changes numbers only by rounding); none: 16 on CUDA, 1 on "
               "the CPU",
       .default_value = nullptr, .min = 1, .max = 4096, .common = true},
  };
  return s;
}

namespace {
// Bounds of integer settings print as integers.
nlohmann::json bound(const SettingSchema& s, double v) {
  const bool whole = s.type == SettingType::integer || s.type == SettingType::integer_list;
  if (whole && std::nearbyint(v) == v) return static_cast<std::int64_t>(v);
  return v;
}
}  // namespace

nlohmann::json to_json(const SettingSchema& s) {
  nlohmann::json j{{"key", s.key},         {"type", setting_type_name(s.type)}, {"label", s.label},
                   {"help", s.help},       {"default", s.default_value},        {"required", s.required},
                   {"path", s.is_path()},  {"common", s.common}};
  if (s.min) j["min"] = bound(s, *s.min);
  if (s.max) j["max"] = bound(s, *s.max);
  if (s.type == SettingType::choice || !s.choices.empty()) j["choices"] = s.choices;
  if (!s.synonym_of.empty()) j["synonym_of"] = s.synonym_of;
  if (!s.required_if_key.empty()) j["required_if"] = {{"setting", s.required_if_key}, {"any_of", s.required_if_any}};
  return j;
}

nlohmann::json to_json(const TaskSchema& t) {
  nlohmann::json settings = nlohmann::json::array();
  for (const auto& s : t.settings) settings.push_back(to_json(s));
  return {{"name", t.name}, {"description", t.description}, {"group", task_group_name(t.group)}, {"settings", settings}};
}

nlohmann::json task_schemas_json() {
  nlohmann::json groups = nlohmann::json::array(), common = nlohmann::json::array(), tasks = nlohmann::json::array();
  for (const auto g : task_groups()) groups.push_back({{"name", task_group_name(g)}, {"title", task_group_title(g)}});
  for (const auto& s : common_setting_schemas()) common.push_back(to_json(s));
  for (const auto& t : task_schemas()) tasks.push_back(to_json(t));
  return {{"schema_version", 1}, {"groups", groups}, {"common", common}, {"tasks", tasks}};
}

}  // namespace lmscope::eval
