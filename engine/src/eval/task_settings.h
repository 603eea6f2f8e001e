// A task entry read through its schema: every value comes with the schema's default when absent (or null) and is
// checked against the schema's type, bounds and choices, with the messages of task_data.h naming task and field. A
// task asks only for keys its schema declares (an undeclared key is an internal error: the schema is the one list).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmscope/eval/task_schema.h"

namespace lmscope::eval {

class TaskSettings {
 public:
  // BadInput when `settings` is not an object or has a key the schema does not declare (a typo such as "lenghts").
  TaskSettings(const nlohmann::json& settings, const TaskSchema& schema);

  const std::string& task() const { return schema_.name; }
  const TaskSchema& schema() const { return schema_; }
  const nlohmann::json& json() const { return s_; }
  // Given in the entry (and not null).
  bool given(const std::string& key) const;

  // The value, else the schema's default. Those without `_if` need a default that is a value; the `_if` forms give
  // nullopt for an absent setting whose default is null (the task decides, as the setting's help says).
  std::int64_t integer(const std::string& key) const;
  std::optional<std::int64_t> integer_if(const std::string& key) const;
  double number(const std::string& key) const;
  std::vector<std::int64_t> integers(const std::string& key) const;
  std::optional<std::vector<std::int64_t>> integers_if(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  std::string text(const std::string& key) const;  // a string or a choice (checked against the choices)
  bool flag(const std::string& key) const;
  std::vector<std::string> words(const std::string& key) const;
  // A file setting as a path (relative ones from base_dir), checked to be a regular file; BadInput naming the
  // field when a required one is missing. `what` says what the file should hold.
  std::filesystem::path file(const std::string& key, const std::string& base_dir, const std::string& what) const;
  std::optional<std::filesystem::path> file_if(const std::string& key, const std::string& base_dir,
                                               const std::string& what) const;

 private:
  const SettingSchema& declared(const std::string& key, std::initializer_list<SettingType> types) const;
  const nlohmann::json& s_;
  const TaskSchema& schema_;
};

// The common settings (common_setting_schemas) as a task uses them: `help` and `default_value` replace the generic
// ones when given.
SettingSchema common_setting(std::string_view key, std::string help = {},
                             std::optional<nlohmann::json> default_value = std::nullopt);
// `field`: which field of a .jsonl/.json record holds the text, for the tasks that read documents.
SettingSchema text_field_setting(std::string default_field = "text");

}  // namespace lmscope::eval
