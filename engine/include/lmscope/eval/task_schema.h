// The one description of the evaluation tasks: each task's name, what it computes, its group and its settings
// (key, type, default, range or choices, help, whether it is a path), declared next to its factory in
// engine/src/eval/tasks/*.cpp. make_task builds tasks from it, the tasks read their defaults and bounds from it
// (eval/task_settings.h), and every front end shows it: `lmscope-cli tasks [NAME] [--json]`, the worker's `tasks`
// answer and, through them, the GUI's task forms.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/eval/task.h"

namespace lmscope::eval {

enum class SettingType {
  text,          // "string"
  integer,       // "int"
  integer_list,  // "int_list"
  number,        // "number"
  number_list,   // "number_list"
  boolean,       // "bool"
  choice,        // "choice": one of `choices`
  file,          // "file": a path to a file
  file_list,     // "file_list": a path or a list of paths to files
  folder,        // "folder": a model's checkpoint folder
  word_list,     // "word_list": a list of strings
};
// The names above, as the JSON form of the schema spells them.
const char* setting_type_name(SettingType t);

struct SettingSchema {
  std::string key{};
  SettingType type = SettingType::text;
  std::string label{};  // a few words for a form ("context lengths")
  std::string help{};   // what it does; with a null default, what happens when it is not given
  // The value used when the setting is absent (JSON of the setting's type); null = none / automatic.
  nlohmann::json default_value{};
  std::optional<double> min{}, max{};  // bounds of the value, or of every element of a list
  std::vector<std::string> choices{};  // the values of a choice (a word list's allowed words)
  bool required = false;              // the task cannot run without it
  bool common = false;                // one of the settings every task accepts (common_setting_schemas)
  // Required when the setting `required_if_key` holds any of `required_if_any` (its default when absent): RULER's
  // essay haystack for the essay tasks.
  std::string required_if_key{};
  std::vector<std::string> required_if_any{};
  // Another spelling of the setting named here, kept for specs that use it (forms show only that one).
  std::string synonym_of{};
  bool is_path() const {
    return type == SettingType::file || type == SettingType::file_list || type == SettingType::folder;
  }
};

enum class TaskGroup { perplexity, long_context, multiple_choice, generation, other };
const char* task_group_name(TaskGroup g);   // "perplexity", "long_context", "multiple_choice", "generation", "other"
const char* task_group_title(TaskGroup g);  // "Perplexity", "Long context", ...
const std::vector<TaskGroup>& task_groups();  // in display order

class TaskSettings;  // eval/task_settings.h: a task entry read through its schema
using TaskFactory =
    std::function<std::unique_ptr<Task>(const TaskSettings& settings, const TaskEnv& env, const std::string& base_dir)>;

struct TaskSchema {
  std::string name{};
  std::string description{};  // one line
  TaskGroup group = TaskGroup::other;
  // The task's own settings, then the common ones it uses (common = true), with this task's defaults and help.
  std::vector<SettingSchema> settings{};
  TaskFactory make{};

  const SettingSchema* find(std::string_view key) const;
};

// Every task, in display order (groups in task_groups() order).
const std::vector<TaskSchema>& task_schemas();
const TaskSchema* find_task_schema(std::string_view name);
// alias, limit, max_length, seed, batch_size: accepted by every task entry (a spec's top level sets them for all).
const std::vector<SettingSchema>& common_setting_schemas();

nlohmann::json to_json(const SettingSchema& s);
nlohmann::json to_json(const TaskSchema& t);
// {"schema_version": 1, "groups": [{name, title}], "common": [settings], "tasks": [{name, description, group,
//  settings}]}: what `lmscope-cli tasks --json` prints and the worker's `tasks` answer carries as `schema`.
nlohmann::json task_schemas_json();

}  // namespace lmscope::eval
